// The report's three charts, built from a sweep record: the accuracy/RMSE
// trade-off with its Pareto front, and one training-loss chart per task.
#pragma once

#include <string>

#include "tandem/artifact/sweep_record.h"
#include "tandem/report/svg_chart.h"

namespace tandem::report {

enum class Task { kRanking, kRetrieval };

// "Top-10 accuracy" (the preset's k), with "on 5-star pairs" when the metric
// counts only those.
std::string accuracy_name(const ExperimentConfig& c);
std::string accuracy_scope(const ExperimentConfig& c);
// "RMSE (stars)" or "RMSE ((rating − 1) / 4)": the scale the model predicts on.
std::string rmse_name(const ExperimentConfig& c);

// Metric values as the report prints them: accuracy to 4 decimals, RMSE to
// 4 on the unit scale and 3 in stars.
std::string format_accuracy(double v);
std::string format_rmse(const ExperimentConfig& c, double v);

// Colour of variant i, the same in every chart and table of the report.
const std::string& variant_colour(size_t i);

// id "pareto": x = RMSE, y = top-K accuracy; one marker per variant labelled
// by its weights; the front connected (series "Pareto front", class
// "front"), the others hollow ("Dominated", class "dominated") and a ring
// around `chosen` when given (marker class "choice-ring").
ChartSpec pareto_chart(const SweepRecord& sweep, std::optional<size_t> chosen);

// id "pareto-closeup": the same chart restricted to the variants whose RMSE
// is at most 10% above the front's largest, when that leaves some out: a
// variant far off on RMSE (retrieval only) would otherwise squeeze the front
// into a corner. Nullopt when every variant is in that range.
std::optional<ChartSpec> pareto_closeup(const SweepRecord& sweep, std::optional<size_t> chosen);

// id "ranking-loss" / "retrieval-loss": mean loss per batch against epoch,
// one series per variant that trains the task (a weight of 0 skips the loss,
// so there is nothing to plot for it).
ChartSpec loss_chart(const SweepRecord& sweep, Task task);

}  // namespace tandem::report
