#include "tandem/artifact/model_export.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <functional>
#include <map>
#include <memory>

#include "tandem/artifact/model_arrays.h"
#include "tandem/core/atomic_file.h"
#include "tandem/core/error.h"

#ifndef TANDEM_VERSION
#define TANDEM_VERSION "unknown"
#endif

namespace tandem {

static_assert(std::endian::native == std::endian::little,
              "the exported arrays are the host's bytes, declared little-endian");

ExportFormat export_format_from(std::string_view name) {
  if (name == "npz") return ExportFormat::kNpz;
  if (name == "safetensors") return ExportFormat::kSafetensors;
  TANDEM_THROW("unknown export format '" << name << "' (valid: npz, safetensors)");
}

const char* export_format_name(ExportFormat f) { return f == ExportFormat::kNpz ? "npz" : "safetensors"; }

nlohmann::json ExportSummary::to_json() const {
  nlohmann::json j;
  j["format"] = export_format_name(format);
  j["path"] = path;
  j["bytes"] = file_bytes;
  j["arrays"] = nlohmann::json::array();
  for (const auto& a : arrays) j["arrays"].push_back({{"name", a.name}, {"dtype", a.dtype}, {"shape", a.shape}, {"bytes", a.bytes}});
  return j;
}

namespace {

constexpr int kFormatVersion = 1;

// An array's bytes while it is written: a view of the model's memory, or
// bytes made for the export (`keep` owns them until released).
struct Payload {
  const char* data = nullptr;
  uint64_t size = 0;
  std::shared_ptr<const void> keep;
};

template <typename T>
Payload owned(std::vector<T> v) {
  auto p = std::make_shared<const std::vector<T>>(std::move(v));
  return {reinterpret_cast<const char*>(p->data()), p->size() * sizeof(T), p};
}

template <typename T>
Payload viewed(const std::vector<T>& v) {
  return {reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T), nullptr};
}

enum class Dtype { kF32, kI64, kU8, kUnicode };

// One array to write; `make` produces its bytes when the writer reaches it,
// so computed arrays exist one at a time.
struct ArraySpec {
  std::string name;
  Dtype dtype;
  std::vector<int64_t> shape;
  int64_t unicode_width = 0;  // code points per element ('<U<n>')
  std::string description;
  std::function<Payload()> make;

  uint64_t bytes() const {
    uint64_t n = 1;
    for (int64_t s : shape) n *= static_cast<uint64_t>(s);
    switch (dtype) {
      case Dtype::kF32: return n * 4;
      case Dtype::kI64: return n * 8;
      case Dtype::kU8: return n;
      case Dtype::kUnicode: return n * 4 * static_cast<uint64_t>(unicode_width);
    }
    return 0;
  }
  std::string npy_descr() const {
    switch (dtype) {
      case Dtype::kF32: return "<f4";
      case Dtype::kI64: return "<i8";
      case Dtype::kU8: return "|u1";
      case Dtype::kUnicode: return "<U" + std::to_string(unicode_width);
    }
    return "";
  }
  std::string safetensors_dtype() const {
    switch (dtype) {
      case Dtype::kF32: return "F32";
      case Dtype::kI64: return "I64";
      case Dtype::kU8: return "U8";
      case Dtype::kUnicode: break;
    }
    TANDEM_THROW("export: array '" << name << "' has no safetensors type");
  }
};

// UTF-8 to code points. A byte that does not start a valid sequence is taken
// as Latin-1 (its own code point), so any string converts.
std::u32string code_points(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    int extra = b < 0x80 ? 0 : (b >> 5) == 0x6 ? 1 : (b >> 4) == 0xe ? 2 : (b >> 3) == 0x1e ? 3 : -1;
    char32_t cp = extra == 0 ? b : extra == 1 ? (b & 0x1f) : extra == 2 ? (b & 0x0f) : (b & 0x07);
    bool ok = extra >= 0 && i + static_cast<size_t>(extra) < s.size();
    for (int k = 1; ok && k <= extra; ++k) {
      const auto c = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
      if ((c >> 6) != 0x2) ok = false;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (ok && extra > 0) {
      // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
      static constexpr char32_t kMin[] = {0, 0x80, 0x800, 0x10000};
      ok = cp >= kMin[extra] && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
    }
    if (!ok) {
      out.push_back(b);
      ++i;
    } else {
      out.push_back(cp);
      i += static_cast<size_t>(extra) + 1;
    }
  }
  return out;
}

// Strings as a numpy '<U<width>' array: each padded with NULs to the width.
ArraySpec unicode_array(std::string name, const std::vector<std::string>* strings, std::string description) {
  int64_t width = 1;  // numpy has no '<U0' worth using
  for (const auto& s : *strings) width = std::max<int64_t>(width, static_cast<int64_t>(code_points(s).size()));
  ArraySpec a{std::move(name), Dtype::kUnicode, {static_cast<int64_t>(strings->size())}, width, std::move(description), {}};
  a.make = [strings, width] {
    std::vector<char32_t> out(strings->size() * static_cast<size_t>(width), 0);
    for (size_t i = 0; i < strings->size(); ++i) {
      const std::u32string cps = code_points((*strings)[i]);
      std::copy(cps.begin(), cps.end(), out.begin() + static_cast<std::ptrdiff_t>(i * static_cast<size_t>(width)));
    }
    return owned(std::move(out));
  };
  return a;
}

// Strings as safetensors has no string type: `<name>.bytes` (U8, the UTF-8
// concatenated) and `<name>.offsets` (I64 [n + 1]: string i is bytes
// [offsets[i], offsets[i + 1])).
void add_byte_strings(std::vector<ArraySpec>& out, const std::string& name, const std::vector<std::string>* strings,
                      const std::string& description) {
  int64_t total = 0;
  for (const auto& s : *strings) total += static_cast<int64_t>(s.size());
  out.push_back({name + ".bytes", Dtype::kU8, {total}, 0, description + " (UTF-8, concatenated)", [strings, total] {
                   std::vector<char> b;
                   b.reserve(static_cast<size_t>(total));
                   for (const auto& s : *strings) b.insert(b.end(), s.begin(), s.end());
                   return owned(std::move(b));
                 }});
  out.push_back({name + ".offsets", Dtype::kI64, {static_cast<int64_t>(strings->size()) + 1}, 0,
                 "string i of " + name + " is " + name + ".bytes[offsets[i]:offsets[i + 1]]", [strings] {
                   std::vector<int64_t> o = {0};
                   for (const auto& s : *strings) o.push_back(o.back() + static_cast<int64_t>(s.size()));
                   return owned(std::move(o));
                 }});
}

// A dense parameter's shape: "<p>.kernel" is [in, out] where "<p>.bias" has
// `out` values (dense layers, experts, gates: all row-major [in, out]);
// anything else is a vector.
std::vector<int64_t> dense_shape(const ParameterView& p, const std::map<std::string, int64_t>& sizes) {
  const std::string suffix = ".kernel";
  if (p.name.size() > suffix.size() && p.name.compare(p.name.size() - suffix.size(), suffix.size(), suffix) == 0) {
    const auto bias = sizes.find(p.name.substr(0, p.name.size() - suffix.size()) + ".bias");
    if (bias != sizes.end() && bias->second > 0 && p.size % bias->second == 0)
      return {p.size / bias->second, bias->second};
  }
  return {p.size};
}

std::string table_name(const std::string& name) {
  if (name == "user_embedding") return "tables/user";
  if (name == "item_embedding") return "tables/item";
  return "tables/" + name;
}

// Everything the export writes, in file order; the model must outlive it.
struct ExportPlan {
  std::vector<ArraySpec> arrays;
  nlohmann::json metadata;  // also npz's `metadata` array, as text
};

ExportPlan plan_export(const TrainedModel& m, ExportFormat f) {
  TANDEM_CHECK(m.model != nullptr, "export: the model has no weights");
  ExportPlan plan;
  auto& a = plan.arrays;
  const int64_t d = m.model->task_dim();
  // The id lists are small next to the vectors; made once here.
  auto users = std::make_shared<const RowIds>(user_row_ids(m));
  auto items = std::make_shared<const RowIds>(catalogue_item_ids(m));
  const int64_t u_rows = static_cast<int64_t>(users->ids.size());
  const int64_t c_rows = static_cast<int64_t>(items->ids.size());
  TANDEM_CHECK(u_rows == m.users.rows(), "export: " << u_rows << " user ids for " << m.users.rows() << " user rows");
  TANDEM_CHECK(c_rows == static_cast<int64_t>(m.catalogue.rows.size()),
               "export: " << c_rows << " item ids for " << m.catalogue.rows.size() << " catalogue entries");
  const auto strings = [&](const std::string& name, const std::vector<std::string>* s, const std::string& what) {
    if (f == ExportFormat::kNpz) {
      a.push_back(unicode_array(name, s, what));
    } else {
      add_byte_strings(a, name, s, what);
    }
  };

  a.push_back({"user_ids", Dtype::kI64, {u_rows}, 0,
               "raw user id of each user_embeddings row (-1: the out-of-vocabulary row)",
               [users] { return Payload{reinterpret_cast<const char*>(users->ids.data()), users->ids.size() * 8, users}; }});
  a.push_back({"user_embeddings", Dtype::kF32, {u_rows, d}, 0,
               "retrieval query vector of each user row: its dot product with item_embeddings is the score "
               "Tandem's exact retrieval ranks by",
               [&m] { return owned(user_query_vectors(m)); }});
  if (users->has_names) strings("user_names", &users->names, "the string id of each user row (\"\": no id)");
  a.push_back({"item_ids", Dtype::kI64, {c_rows}, 0, "raw item id of each catalogue entry (item_embeddings row)",
               [items] { return Payload{reinterpret_cast<const char*>(items->ids.data()), items->ids.size() * 8, items}; }});
  a.push_back({"item_embeddings", Dtype::kF32, {c_rows, d}, 0,
               "retrieval vector of each catalogue entry, the candidates of every top-k search",
               [&m] { return owned(m.catalogue_embeddings()); }});
  strings("item_titles", &catalogue_titles(m), "the title of each catalogue entry");
  if (items->has_names) strings("item_names", &items->names, "the string id of each catalogue entry");

  for (const TableView& t : m.model->sparse_parameter_values()) {
    const EmbeddingTable* table = t.table;
    a.push_back({table_name(t.name), Dtype::kF32, {table->rows, table->dim}, 0,
                 "embedding table '" + t.name + "', [rows, dim]", [table] { return viewed(table->weights); }});
  }
  const std::vector<ParameterView> dense = m.model->dense_parameter_values();
  std::map<std::string, int64_t> sizes;
  for (const auto& p : dense) sizes[p.name] = p.size;
  for (const auto& p : dense) {
    const ParameterView v = p;
    a.push_back({"weights/" + p.name, Dtype::kF32, dense_shape(p, sizes), 0,
                 "dense parameter '" + p.name + "' (a kernel is [in, out], row-major: y = x kernel + bias)", [v] {
                   return Payload{reinterpret_cast<const char*>(v.value), static_cast<uint64_t>(v.size) * 4, nullptr};
                 }});
  }

  nlohmann::json& md = plan.metadata;
  md["format"] = "tandem-export";
  md["format_version"] = kFormatVersion;
  md["tandem_version"] = TANDEM_VERSION;
  md["dim"] = d;
  md["ids"] = users->has_names || items->has_names ? "string" : "integer";
  md["config"] = m.config.to_json();
  nlohmann::json described = nlohmann::json::object();
  for (const auto& x : a) described[x.name] = x.description;
  md["arrays"] = described;
  if (f == ExportFormat::kNpz) {
    // np.load reads only .npy entries, so the metadata is an array too: a
    // 0-d '<U<n>' holding the JSON text.
    auto text = std::make_shared<const std::u32string>(code_points(md.dump()));
    a.push_back({"metadata", Dtype::kUnicode, {}, static_cast<int64_t>(text->size()), "", [text] {
                   return Payload{reinterpret_cast<const char*>(text->data()), text->size() * 4, text};
                 }});
  }
  return plan;
}

// ---- npz ------------------------------------------------------------------

// The .npy v1.0 header of an array: magic, version, header length, then the
// header dict padded with spaces (and a final newline) so that the data
// starts at a multiple of 64 bytes.
std::string npy_header(const ArraySpec& a) {
  std::string shape = "(";
  for (size_t i = 0; i < a.shape.size(); ++i) shape += std::to_string(a.shape[i]) + (a.shape.size() == 1 ? "," : i + 1 < a.shape.size() ? ", " : "");
  shape += ")";
  std::string dict = "{'descr': '" + a.npy_descr() + "', 'fortran_order': False, 'shape': " + shape + ", }";
  const size_t prefix = 10;  // magic (6), version (2), header length (2)
  const size_t total = (prefix + dict.size() + 1 + 63) / 64 * 64;
  dict.append(total - prefix - dict.size() - 1, ' ');
  dict += '\n';
  TANDEM_CHECK(dict.size() < 65536, "export: array '" << a.name << "' has too long a .npy header");
  std::string h = "\x93NUMPY";
  h += '\x01';
  h += '\x00';
  h += static_cast<char>(dict.size() & 0xff);
  h += static_cast<char>(dict.size() >> 8);
  return h + dict;
}

// The entries' and the archive's sources report errors here, since an
// exception must not cross libzip's C frames.
struct ErrorSlot {
  std::string message;
};

// A zip entry: an array's .npy bytes, made when libzip opens the entry and
// released when it closes it.
struct EntrySource {
  const ArraySpec* array;
  ErrorSlot* slot;
  std::string header;
  Payload payload;
  uint64_t pos = 0;
  zip_error_t error;

  uint64_t size() const { return npy_header(*array).size() + array->bytes(); }
};

// A fixed time for every entry, so that the same model exports to the same bytes.
constexpr time_t kEntryTime = 315532800 + 86400;  // 1980-01-02, the zip format's epoch

zip_int64_t entry_callback(void* state, void* data, zip_uint64_t len, zip_source_cmd_t cmd) {
  auto* e = static_cast<EntrySource*>(state);
  try {
    switch (cmd) {
      case ZIP_SOURCE_OPEN:
        e->header = npy_header(*e->array);
        e->payload = e->array->make();
        TANDEM_CHECK(e->payload.size == e->array->bytes(), "export: array '" << e->array->name << "' has "
                                                                              << e->payload.size << " bytes, expected "
                                                                              << e->array->bytes());
        e->pos = 0;
        return 0;
      case ZIP_SOURCE_READ: {
        const uint64_t total = e->header.size() + e->payload.size;
        const uint64_t n = std::min<uint64_t>(len, total - e->pos);
        auto* out = static_cast<char*>(data);
        for (uint64_t done = 0; done < n;) {
          const uint64_t at = e->pos + done;
          const uint64_t take = at < e->header.size() ? std::min<uint64_t>(n - done, e->header.size() - at)
                                                      : n - done;
          const char* src = at < e->header.size() ? e->header.data() + at : e->payload.data + (at - e->header.size());
          std::memcpy(out + done, src, take);
          done += take;
        }
        e->pos += n;
        return static_cast<zip_int64_t>(n);
      }
      case ZIP_SOURCE_CLOSE:
        e->payload = {};
        e->header.clear();
        return 0;
      case ZIP_SOURCE_STAT: {
        auto* st = ZIP_SOURCE_GET_ARGS(zip_stat_t, data, len, &e->error);
        if (st == nullptr) return -1;
        zip_stat_init(st);
        st->size = e->size();
        st->mtime = kEntryTime;
        st->comp_method = ZIP_CM_STORE;
        st->valid |= ZIP_STAT_SIZE | ZIP_STAT_MTIME;
        return sizeof(*st);
      }
      case ZIP_SOURCE_ERROR: return zip_error_to_data(&e->error, data, len);
      case ZIP_SOURCE_FREE: return 0;  // owned by the writer
      case ZIP_SOURCE_SUPPORTS:
        return zip_source_make_command_bitmap(ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE, ZIP_SOURCE_STAT,
                                              ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE, -1);
      default: zip_error_set(&e->error, ZIP_ER_OPNOTSUPP, 0); return -1;
    }
  } catch (const std::exception& ex) {
    if (e->slot->message.empty()) e->slot->message = ex.what();
    zip_error_set(&e->error, ZIP_ER_INTERNAL, 0);
    return -1;
  }
}

// The archive libzip writes: the AtomicFile's temporary, through a second
// descriptor (libzip seeks back to complete each entry's local header). The
// archive is new, so the source reports that there is nothing to read.
struct ArchiveSink {
  int fd = -1;
  uint64_t pos = 0, size = 0;
  zip_error_t error;
};

zip_int64_t archive_callback(void* state, void* data, zip_uint64_t len, zip_source_cmd_t cmd) {
  auto* s = static_cast<ArchiveSink*>(state);
  switch (cmd) {
    case ZIP_SOURCE_STAT: zip_error_set(&s->error, ZIP_ER_READ, ENOENT); return -1;  // a new archive
    case ZIP_SOURCE_BEGIN_WRITE:
      if (::ftruncate(s->fd, 0) != 0) {
        zip_error_set(&s->error, ZIP_ER_WRITE, errno);
        return -1;
      }
      s->pos = s->size = 0;
      return 0;
    case ZIP_SOURCE_WRITE: {
      const char* p = static_cast<const char*>(data);
      for (uint64_t left = len; left > 0;) {
        const ssize_t put = ::pwrite(s->fd, p, left, static_cast<off_t>(s->pos));
        if (put < 0) {
          if (errno == EINTR) continue;
          zip_error_set(&s->error, ZIP_ER_WRITE, errno);
          return -1;
        }
        p += put;
        left -= static_cast<uint64_t>(put);
        s->pos += static_cast<uint64_t>(put);
      }
      s->size = std::max(s->size, s->pos);
      return static_cast<zip_int64_t>(len);
    }
    case ZIP_SOURCE_SEEK_WRITE: {
      const zip_int64_t at = zip_source_seek_compute_offset(s->pos, s->size, data, len, &s->error);
      if (at < 0) return -1;
      s->pos = static_cast<uint64_t>(at);
      return 0;
    }
    case ZIP_SOURCE_TELL_WRITE: return static_cast<zip_int64_t>(s->pos);
    case ZIP_SOURCE_COMMIT_WRITE:  // AtomicFile syncs and renames
    case ZIP_SOURCE_ROLLBACK_WRITE:  // AtomicFile removes the temporary
    case ZIP_SOURCE_REMOVE:
    case ZIP_SOURCE_FREE: return 0;
    case ZIP_SOURCE_ERROR: return zip_error_to_data(&s->error, data, len);
    case ZIP_SOURCE_SUPPORTS: return ZIP_SOURCE_SUPPORTS_WRITABLE;
    default: zip_error_set(&s->error, ZIP_ER_OPNOTSUPP, 0); return -1;
  }
}

void write_npz(const ExportPlan& plan, const std::string& path, AtomicFile& file) {
  ArchiveSink sink;
  zip_error_init(&sink.error);
  sink.fd = ::open(file.temporary_path().c_str(), O_WRONLY | O_CLOEXEC);
  TANDEM_CHECK(sink.fd >= 0, path << ": cannot open temporary file " << file.temporary_path() << ": "
                                  << std::strerror(errno));
  struct Closer {
    ArchiveSink& s;
    ~Closer() {
      ::close(s.fd);
      zip_error_fini(&s.error);
    }
  } closer{sink};

  ErrorSlot slot;
  std::vector<std::unique_ptr<EntrySource>> entries;
  for (const auto& a : plan.arrays) {
    auto e = std::make_unique<EntrySource>();
    e->array = &a;
    e->slot = &slot;
    zip_error_init(&e->error);
    entries.push_back(std::move(e));
  }
  struct EntriesFini {
    std::vector<std::unique_ptr<EntrySource>>& v;
    ~EntriesFini() {
      for (auto& e : v) zip_error_fini(&e->error);
    }
  } fini{entries};

  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* archive_source = zip_source_function_create(archive_callback, &sink, &error);
  TANDEM_CHECK(archive_source != nullptr, path << ": cannot start the archive: " << zip_error_strerror(&error));
  zip_t* za = zip_open_from_source(archive_source, ZIP_CREATE | ZIP_TRUNCATE, &error);
  if (za == nullptr) {
    zip_source_free(archive_source);
    const std::string why = zip_error_strerror(&error);
    zip_error_fini(&error);
    TANDEM_THROW(path << ": cannot start the archive: " << why);
  }
  zip_error_fini(&error);
  const auto fail = [&](const std::string& what) {
    std::string why = slot.message.empty() ? std::string(zip_strerror(za)) : slot.message;
    zip_discard(za);
    TANDEM_THROW(path << ": " << what << ": " << why);
  };
  for (auto& e : entries) {
    zip_source_t* src = zip_source_function(za, entry_callback, e.get());
    if (src == nullptr) fail("cannot add " + e->array->name);
    const zip_int64_t index = zip_file_add(za, (e->array->name + ".npy").c_str(), src, ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      zip_source_free(src);
      fail("cannot add " + e->array->name);
    }
    if (zip_set_file_compression(za, static_cast<zip_uint64_t>(index), ZIP_CM_STORE, 0) != 0)
      fail("cannot store " + e->array->name);
  }
  if (zip_close(za) != 0) fail("cannot write the archive");
}

// ---- safetensors ----------------------------------------------------------

void write_safetensors(const ExportPlan& plan, AtomicFile& file) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  uint64_t offset = 0;
  for (const auto& a : plan.arrays) {
    const uint64_t end = offset + a.bytes();
    header[a.name] = {{"dtype", a.safetensors_dtype()}, {"shape", a.shape}, {"data_offsets", {offset, end}}};
    offset = end;
  }
  // safetensors' metadata is a map of strings: JSON values are written as
  // their JSON text.
  nlohmann::ordered_json md = nlohmann::ordered_json::object();
  for (const auto& [key, value] : plan.metadata.items())
    md[key] = value.is_string() ? value.get<std::string>() : value.dump();
  header["__metadata__"] = md;
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  char length[8];
  const uint64_t n = text.size();
  std::memcpy(length, &n, 8);
  file.write(length, 8);
  file.write(text.data(), text.size());
  for (const auto& a : plan.arrays) {
    const Payload p = a.make();
    TANDEM_CHECK(p.size == a.bytes(), "export: array '" << a.name << "' has " << p.size << " bytes, expected " << a.bytes());
    file.write(p.data, p.size);
  }
}

}  // namespace

ExportSummary export_model(const TrainedModel& m, ExportFormat f, const std::string& path) {
  const ExportPlan plan = plan_export(m, f);
  {
    AtomicFile file(path);
    if (f == ExportFormat::kNpz) {
      write_npz(plan, path, file);
    } else {
      write_safetensors(plan, file);
    }
    file.commit();
  }
  ExportSummary s;
  s.format = f;
  s.path = path;
  for (const auto& a : plan.arrays)
    s.arrays.push_back({a.name, f == ExportFormat::kNpz ? a.npy_descr() : a.safetensors_dtype(), a.shape, a.bytes()});
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) s.file_bytes = static_cast<uint64_t>(st.st_size);
  return s;
}

}  // namespace tandem
