#include "coordinator/worker_group.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>

#include "common/log.h"
#include "common/stop_signal.h"
#include "coordinator/messages.h"
#include "data/dataset.h"
#include "worker/device.h"
#include "worker/trainer.h"

namespace journey {
namespace {

class GroupWorker {
 public:
  GroupWorker(const Communicator& world, const Communicator& group, int local_worker_index)
      : world_(world), group_(group), local_worker_index_(local_worker_index) {}

  void run() {
    const bool leader = group_.rank() == 0;
    while (true) {
      nlohmann::json assignment;
      if (leader) {
        Message m = wait_message(world_.handle(), 0);
        if (m.tag == kTagStop) continue;  // A stop for a cell that already ended.
        assignment = m.tag == kTagAssign ? m.body : nlohmann::json{{"shutdown", true}};
      }
      assignment = broadcast_json(group_.handle(), 0, assignment);
      if (assignment.value("shutdown", false)) return;
      nlohmann::json report = run_cell(assignment);
      if (leader) send_message(world_.handle(), 0, kTagDone, report);
    }
  }

 private:
  // The device and its collectives, chosen with the first cell's config (train.device is the
  // same in every cell: it is not a sweep axis).
  Collectives& collectives(const RunConfig& config) {
    if (!collectives_) {
      device_ = choose_device(config.train.device, local_worker_index_);
      collectives_ = make_device_collectives(group_, device_, config.train.collectives,
                                             config.train.collective_timeout_s);
    }
    return *collectives_;
  }

  const Dataset& dataset(const std::string& dir) {
    auto it = datasets_.find(dir);
    if (it == datasets_.end()) {
      it = datasets_.emplace(dir, std::make_unique<Dataset>(Dataset::open(dir))).first;
    }
    return *it->second;
  }

  nlohmann::json run_cell(const nlohmann::json& assignment) {
    const std::string cell_id = assignment.at("cell_id");
    const bool leader = group_.rank() == 0;
    try {
      const char* injected = std::getenv("JOURNEY_INJECT_FAILURE");
      if (injected != nullptr && cell_id == injected) {
        throw std::runtime_error("injected failure (JOURNEY_INJECT_FAILURE)");
      }
      RunConfig config = parse_config_text(assignment.at("config"), "assignment of " + cell_id);
      const std::string out_dir = assignment.at("out_dir");
      if (leader) std::filesystem::create_directories(out_dir);
      TrainerOptions options;
      options.out_dir = out_dir;
      options.cell_id = cell_id;
      options.resume = assignment.at("resume");
      options.log_path = out_dir + "/train.log";
      options.stop_requested = [this, leader] {
        if (leader && poll_message(world_.handle(), 0, kTagStop)) stop_ = true;
        return stop_ || stop_requested();
      };
      auto last_report = std::chrono::steady_clock::now();
      options.on_progress = [&](const RunProgress& p) {
        const auto now = std::chrono::steady_clock::now();
        if (now - last_report < std::chrono::milliseconds(500)) return;
        last_report = now;
        send_message(world_.handle(), 0, kTagProgress, to_json(p));
      };
      options.on_alive = [&] {
        send_message(world_.handle(), 0, kTagAlive, nlohmann::json::object());
      };
      stop_ = false;
      Collectives& group = collectives(config);
      options.device = device_;
      Trainer trainer(config, dataset(config.data.dir), group, options);
      return trainer.run().to_json();
    } catch (const std::exception& e) {
      log::warn("cell " + cell_id + " failed: " + e.what());
      RunSummary failed;
      failed.cell_id = cell_id;
      failed.status = RunStatus::kFailed;
      failed.reason = e.what();
      failed.group_size = group_.size();
      return failed.to_json();
    }
  }

  const Communicator& world_;
  const Communicator& group_;
  const int local_worker_index_;
  at::Device device_ = at::kCPU;
  std::unique_ptr<Collectives> collectives_;
  std::map<std::string, std::unique_ptr<Dataset>> datasets_;
  bool stop_ = false;
};

}  // namespace

void run_worker_group(const Communicator& world, const Communicator& group,
                      int local_worker_index) {
  GroupWorker(world, group, local_worker_index).run();
}

}  // namespace journey
