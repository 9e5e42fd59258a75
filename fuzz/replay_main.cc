// A main() for a fuzz target without libFuzzer: runs its
// LLVMFuzzerTestOneInput once over every file of the given directories, so
// any compiler and a plain ctest run replay the seed corpus and every past
// finding (a finding shows up as a crash, an escaping exception or, in
// sanitizer builds, a sanitizer report).
//
//   fuzz_replay_<name> CORPUS_DIR [MORE_DIR...]
//
// CORPUS_DIR must exist and hold at least one file, so that a wrong path
// cannot make the test pass vacuously; the others may be absent (a target
// with no past findings has no regressions folder).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

namespace fs = std::filesystem;

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_regular_file()) out.push_back(entry.path());
  std::sort(out.begin(), out.end());  // same order on every run
  return out;
}

void replay(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  // Named before the run, so that a crash says which file caused it.
  std::fprintf(stderr, "replay %s (%zu bytes)\n", file.c_str(), bytes.size());
  std::fflush(stderr);
  // An exactly-sized heap copy, as libFuzzer passes it, so that a sanitizer
  // build catches a read one past the end.
  const auto copy = std::make_unique<uint8_t[]>(bytes.size());
  std::copy(bytes.begin(), bytes.end(), copy.get());
  LLVMFuzzerTestOneInput(copy.get(), bytes.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR [MORE_DIR...]\n", argv[0]);
    return 2;
  }
  size_t replayed = 0;
  for (int i = 1; i < argc; ++i) {
    const fs::path dir = argv[i];
    if (!fs::is_directory(dir)) {
      if (i == 1) {
        std::fprintf(stderr, "corpus directory %s does not exist\n", dir.c_str());
        return 1;
      }
      continue;
    }
    const auto files = files_in(dir);
    if (i == 1 && files.empty()) {
      std::fprintf(stderr, "corpus directory %s holds no files\n", dir.c_str());
      return 1;
    }
    for (const auto& f : files) replay(f);
    replayed += files.size();
  }
  std::printf("replayed %zu inputs without a finding\n", replayed);
  return 0;
}
