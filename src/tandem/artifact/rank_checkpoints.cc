#include "tandem/artifact/rank_checkpoints.h"

#include <filesystem>

#include <nlohmann/json.hpp>

#include "tandem/core/atomic_file.h"
#include "tandem/core/error.h"
#include "tandem/core/regular_file.h"

namespace tandem {

namespace fs = std::filesystem;

namespace {
constexpr const char* kManifest = "ranks.json";
}

std::string rank_checkpoint_dir(const std::string& dir, int rank, int ranks) {
  return (fs::path(dir) / ("rank-" + std::to_string(rank) + "-of-" + std::to_string(ranks))).string();
}

std::optional<RankManifest> read_rank_manifest(const std::string& dir) {
  const fs::path path = fs::path(dir) / kManifest;
  if (!fs::exists(path)) return std::nullopt;
  const std::string text = read_regular_file(path.string(), "rank manifest");
  RankManifest m;
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    m.ranks = j.at("ranks").get<int>();
    m.global_step = j.at("global_step").get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    TANDEM_THROW(path.string() << ": not a rank manifest (" << e.what() << ")");
  }
  TANDEM_CHECK(m.ranks >= 1 && m.ranks <= 65536 && m.global_step >= 0,
               path.string() << ": " << m.ranks << " ranks at step " << m.global_step << " is not a valid manifest");
  return m;
}

void write_rank_manifest(const std::string& dir, const RankManifest& m) {
  const nlohmann::json j = {{"ranks", m.ranks},
                            {"global_step", m.global_step},
                            {"format", "one checkpoint directory per rank: rank-<r>-of-<ranks>/"}};
  const std::string text = j.dump(2) + "\n";
  AtomicFile f((fs::path(dir) / kManifest).string());
  f.write(text.data(), text.size());
  f.commit();
}

ResumePoint find_rank_resume_point(const std::string& dir, int rank, int ranks) {
  const std::optional<RankManifest> m = read_rank_manifest(dir);
  if (!m) {
    TANDEM_CHECK(ranks == 1, "--resume " << dir << ": the run there was checkpointed by one process (no "
                                         << kManifest << "); resume it without mpirun, or with -np 1");
    return find_resume_point(dir);
  }
  TANDEM_CHECK(m->ranks == ranks,
               "--resume " << dir << ": the run was checkpointed by " << m->ranks << " ranks, this job has " << ranks
                           << ". Each rank's checkpoint holds its shard of the tables; resume with mpirun -np "
                           << m->ranks << " (re-sharding to another rank count is not supported)");
  const std::string own = rank_checkpoint_dir(dir, rank, ranks);
  const std::string path = (fs::path(own) / checkpoint_file_name(m->global_step)).string();
  TANDEM_CHECK(fs::exists(path), "--resume " << dir << ": rank " << rank << "'s checkpoint of step " << m->global_step
                                             << " (" << path << "), which " << kManifest << " names, is missing");
  ResumePoint r;
  try {
    r.checkpoint = read_checkpoint(path);
  } catch (const Error& e) {
    TANDEM_THROW("--resume " << dir << ": rank " << rank << "'s checkpoint of step " << m->global_step
                             << " is damaged: " << e.what());
  }
  TANDEM_CHECK(r.checkpoint.trainer.global_step == m->global_step,
               path << ": holds step " << r.checkpoint.trainer.global_step << ", not the step its name says");
  r.path = path;
  return r;
}

}  // namespace tandem
