// Where `tandem data download` keeps datasets.
#pragma once

#include <string>

namespace tandem {

// $TANDEM_DATA_CACHE, else $XDG_CACHE_HOME/tandem, else $HOME/.cache/tandem.
// Empty variables count as unset, and so does a relative XDG_CACHE_HOME (the
// XDG base-directory specification says to ignore it). Throws tandem::Error
// when none of them is set.
std::string default_cache_dir();

}  // namespace tandem
