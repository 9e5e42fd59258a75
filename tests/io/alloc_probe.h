// Records the largest single operator-new request made while a probe is
// alive, so tests can prove that a forged length is refused before anything
// sized by it is allocated (a bad_alloc would only show up on small machines).
#pragma once

#include <cstddef>

namespace tandem_test {

class AllocProbe {
 public:
  AllocProbe();
  ~AllocProbe();
  AllocProbe(const AllocProbe&) = delete;
  AllocProbe& operator=(const AllocProbe&) = delete;

  std::size_t largest() const;
};

}  // namespace tandem_test
