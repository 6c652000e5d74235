#pragma once
// A pool, a state set D_S and an untrained query network sized for it (band
// images of 32 x 64 in regions of 16 x 16: 8 per image), for the tests of
// picking regions with a policy.
#include <string>

#include <torch/torch.h>

#include "regal/data/sample_store.h"
#include "regal/loop/acquisition.h"
#include "regal/loop/policy_training.h"
#include "regal/nn/fpn.h"
#include "regal/rl/dqn.h"
#include "support/test_support.h"

namespace regal::testing {

class PolicyAcquisitionWorld {
 public:
  static constexpr int64_t kStateImages = 2;
  static constexpr int64_t kStateRows = kStateImages * 8;  // |D_S| x (32/16) x (64/16) regions

  // context: the net (eval mode), the pool, the policy and the region size;
  // the state set is left for the test to give.
  PolicyAcquisitionWorld(const std::string& tag, int pool_images, int classes)
      : dir_(tag),
        pool(open_written(pool_images, classes, "pool", 3)),
        state_set(open_written(kStateImages, classes, "state", 4)),
        net(seeded_net(classes)),
        dqn(loop::query_net_options(classes, kStateRows), rl::DqnOptions()) {
    net->eval();
    context.net = net;
    context.pool_images = &pool;
    context.policy = &dqn;
    context.region = {16, 16};
  }

 private:
  ScratchDir dir_;  // declared first: the stores below read what it holds

  data::SampleStore open_written(int count, int classes, const std::string& split, unsigned seed) {
    write_band_dataset(dir_.path(), split, count, 32, 64, classes, seed);
    return data::SampleStore(data::open_dataset({"folder", dir_.path(), split}), true);
  }

  static nn::Fpn seeded_net(int classes) {
    torch::manual_seed(0);
    return nn::Fpn(nn::FpnOptions(classes).fpn_channels(8).dropout(0.5));
  }

 public:
  data::SampleStore pool;
  data::SampleStore state_set;
  nn::Fpn net;
  rl::DqnTrainer dqn;
  loop::AcquisitionContext context;
};

}  // namespace regal::testing
