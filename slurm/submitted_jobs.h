// DIR/slurm-jobs.txt: the Slurm jobs `journey submit` started for a sweep directory, oldest
// first, one line each: "<job id> <submitted at, YYYY-MM-DDTHH:MM:SS local time> <note>".
// `journey status` reads it to show the newest job's state; `journey submit` reads it to
// refuse a second job on a directory whose job may still run. Lines are only appended, so
// the history of a directory is never lost.
#pragma once

#include <string>
#include <vector>

namespace journey {

std::string submitted_jobs_path(const std::string& sweep_dir);

// Appends a line; DataError if the file cannot be written.
void record_submitted_job(const std::string& sweep_dir, const std::string& job_id,
                          const std::string& note);

// The job ids in order of submission; empty when the file does not exist.
std::vector<std::string> submitted_job_ids(const std::string& sweep_dir);

}  // namespace journey
