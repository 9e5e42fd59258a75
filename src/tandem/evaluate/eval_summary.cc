#include "tandem/evaluate/eval_summary.h"

#include <cmath>
#include <algorithm>
#include <cstdio>
#include <set>

namespace tandem {

namespace {

std::string fixed(double v, int digits) {
  if (std::isnan(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string shortest(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string at(const std::map<int64_t, double>& m, int64_t k) {
  const auto it = m.find(k);
  return it == m.end() ? "-" : fixed(it->second, 4);
}

std::string auc_text(const EvalResult& r) {
  return "AUC " + fixed(r.auc, 4) + " (rating >= " + shortest(r.auc_threshold) + ": " +
                  std::to_string(r.auc_positives) + " positive, " + std::to_string(r.auc_negatives) +
                  " negative pairs)";
}

}  // namespace

std::string ranking_summary(const EvalResult& r) {
  if (r.recall_at.empty()) return "";
  std::string s;
  auto add = [&](const char* name, const std::map<int64_t, double>& m) {
    for (const auto& [k, v] : m) s += (s.empty() ? "" : ", ") + std::string(name) + "@" + std::to_string(k) + " " + fixed(v, 4);
  };
  add("recall", r.recall_at);
  add("NDCG", r.ndcg_at);
  add("MAP", r.map_at);
  s += ", MRR " + fixed(r.mrr, 4) + " over " + std::to_string(r.ranking_users) + " users (" +
       (r.exclude_seen ? "seen items excluded" : "seen items kept") + "); " + auc_text(r);
  return s;
}

std::string ranking_table(const std::vector<std::pair<std::string, EvalResult>>& rows,
                          const std::string& name_header) {
  std::set<int64_t> ks;
  for (const auto& [name, r] : rows)
    for (const auto& [k, v] : r.recall_at) ks.insert(k);
  if (ks.empty()) return "";
  size_t name_width = name_header.size();
  for (const auto& [name, r] : rows) name_width = std::max(name_width, name.size());
  std::vector<std::string> head;
  for (const char* metric : {"Recall", "NDCG", "MAP"})
    for (int64_t k : ks) head.push_back(std::string(metric) + "@" + std::to_string(k));
  head.push_back("MRR");
  head.push_back("AUC");
  // Appends " cell |" with the cell padded to width w (right-aligned numbers).
  auto cell = [](std::string& line, const std::string& s, size_t w, bool right) {
    const std::string fill(w > s.size() ? w - s.size() : 0, ' ');
    line += ' ';
    line += right ? fill : s;
    line += right ? s : fill;
    line += " |";
  };
  auto width = [](const std::string& header) { return std::max<size_t>(header.size(), 6); };
  std::string out = "|", rule = "|";
  cell(out, name_header, name_width, false);
  rule.append(name_width + 2, '-').append("|");
  for (const auto& h : head) {
    cell(out, h, width(h), true);
    rule.append(width(h) + 2, '-').append("|");
  }
  out.append("\n").append(rule).append("\n");
  for (const auto& [name, r] : rows) {
    std::vector<std::string> cells;
    for (const auto* m : {&r.recall_at, &r.ndcg_at, &r.map_at})
      for (int64_t k : ks) cells.push_back(at(*m, k));
    cells.push_back(fixed(r.mrr, 4));
    cells.push_back(fixed(r.auc, 4));
    out += "|";
    cell(out, name, name_width, false);
    for (size_t i = 0; i < cells.size(); ++i) cell(out, cells[i], width(head[i]), true);
    out += "\n";
  }
  return out;
}

}  // namespace tandem
