// tandem export: a saved model as a file other tools read (numpy's .npz or
// safetensors): embeddings with their ids, every weight by name, the config
// as metadata (artifact/model_export.h, docs/export.md).
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "tandem/artifact/model_export.h"

namespace tandem::cli {

Action add_export(CLI::App& app) {
  struct Options {
    std::string model, format, output;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  app.add_option("--model,-m", o->model, "Model file")->required();
  app.add_option("--format", o->format, "npz (numpy) or safetensors")->required();
  app.add_option("--output,-o", o->output, "File to write (replaced atomically)")->required();
  app.add_flag("--json", o->json, "One JSON object on stdout: the arrays written, their shapes and bytes");
  return [o] {
    // The format first, so that a typo fails before the model is read.
    const ExportFormat format = export_format_from(o->format);
    const TrainedModel m = load_model(o->model);
    const ExportSummary s = export_model(m, format, o->output);
    if (o->json) {
      nlohmann::json j = s.to_json();
      j["model"] = o->model;
      std::cout << j.dump() << std::endl;
    } else {
      std::printf("Exported %s to %s (%s): %zu arrays, %llu bytes\n", o->model.c_str(), o->output.c_str(),
                  export_format_name(format), s.arrays.size(), static_cast<unsigned long long>(s.file_bytes));
    }
    return 0;
  };
}

}  // namespace tandem::cli
