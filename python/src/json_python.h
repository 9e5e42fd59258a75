// JSON values (the CLI's and the server's replies) as Python objects, so
// that the module returns exactly what `--json` prints, parsed.
#pragma once

#include <pybind11/pybind11.h>

#include <nlohmann/json.hpp>

namespace tandem::python {

// null -> None, booleans, integers, floats (the same double), strings,
// arrays -> list, objects -> dict (in the JSON object's key order).
pybind11::object to_python(const nlohmann::json& v);

}  // namespace tandem::python
