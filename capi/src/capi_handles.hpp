// What the C ABI's opaque handles hold, shared by the files of capi/src.
#pragma once

#include <memory>
#include <string>

#include "tenure/elector.hpp"
#include "tenure/shared_queue.hpp"
#include "tenure/tenure.h"

struct tenure_options {
  tenure::ElectorOptions opts;
};

struct tenure_event {
  tenure::Event ev;
  tenure_elector* elector = nullptr;  // not owned
  void* opaque = nullptr;             // the caller's
};

struct tenure_status {
  tenure::ElectorStatus st;
};

struct tenure_elector {
  std::unique_ptr<tenure::Elector> elector;
  std::string identity;
  void* queue_opaque = nullptr;  // the caller's, from tenure_elector_set_queue
};

struct tenure_queue {
  std::shared_ptr<tenure::SharedEventQueue> q;  // shared with the electors attached
};
