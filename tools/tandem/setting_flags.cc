#include "setting_flags.h"

#include "argument_error.h"

namespace tandem::cli {

void SettingFlags::add_to(CLI::App& app, const std::function<bool(const Setting&)>& wanted,
                          const std::string& default_note) {
  using K = SettingKind;
  for (const Setting& s : settings()) {
    if (!s.flag || s.custom_flag || (wanted && !wanted(s))) continue;
    auto f = std::make_unique<Flag>();
    f->setting = &s;
    const std::string help = default_note.empty() ? setting_help(s) : s.help + (" " + default_note);
    switch (s.kind) {
      case K::kBool: f->option = app.add_flag(s.flag, f->on, help); break;
      case K::kIntList:
      case K::kStringList:
        f->option = app.add_option(s.flag, f->values, help)
                        ->delimiter(',')
                        ->type_name(s.kind == K::kIntList ? "INT,..." : "TEXT,...");
        break;
      case K::kTableArray: f->option = app.add_option(s.flag, f->values, help); break;
      default: {
        f->option = app.add_option(s.flag, f->text, help);
        const char* type = s.kind == K::kInt || s.kind == K::kUInt ? "INT"
                           : s.kind == K::kFloat    ? "NUM"
                           : s.kind == K::kDouble   ? "NUM"
                           : s.kind == K::kColumn   ? "COLUMN"
                           : s.kind == K::kByteSize ? "SIZE"
                           : s.kind == K::kPath     ? "PATH"
                                                    : "TEXT";
        f->option->type_name(type);
        if (s.kind == K::kChoice) f->option->check(CLI::IsMember(s.choices));
      }
    }
    flags_.push_back(std::move(f));
  }
}

void SettingFlags::apply(ExperimentConfig& c) const {
  for (const auto& f : flags_) {
    if (f->option->count() == 0) continue;
    const Setting& s = *f->setting;
    // A value the registry refuses is a command-line error (errors name the flag).
    as_argument_error([&] {
      if (s.kind == SettingKind::kTableArray) {
        s.from_flag_values(c, f->values);
        return;
      }
      const std::vector<std::string> texts =
          s.kind == SettingKind::kIntList || s.kind == SettingKind::kStringList
              ? f->values
              : std::vector<std::string>{f->text};
      s.set(c, setting_value_from_text(s, texts));
    });
  }
}

}  // namespace tandem::cli
