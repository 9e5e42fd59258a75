#include "json_python.h"

namespace tandem::python {

namespace py = pybind11;

py::object to_python(const nlohmann::json& v) {
  using T = nlohmann::json::value_t;
  switch (v.type()) {
    case T::null:
    case T::discarded: return py::none();
    case T::boolean: return py::bool_(v.get<bool>());
    case T::number_integer: return py::int_(v.get<int64_t>());
    case T::number_unsigned: return py::int_(v.get<uint64_t>());
    case T::number_float: return py::float_(v.get<double>());
    case T::string: {
      // Titles come from the data's bytes: replace what is not UTF-8 rather
      // than fail, as the CLI's JSON output does.
      const std::string& s = v.get_ref<const std::string&>();
      PyObject* o = PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace");
      if (o == nullptr) throw py::error_already_set();
      return py::reinterpret_steal<py::object>(o);
    }
    case T::array: {
      py::list out;
      for (const auto& e : v) out.append(to_python(e));
      return out;
    }
    case T::object: {
      py::dict out;
      for (const auto& [k, e] : v.items()) out[py::str(k)] = to_python(e);
      return out;
    }
    case T::binary: break;
  }
  return py::none();
}

}  // namespace tandem::python
