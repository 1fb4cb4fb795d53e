// The callback type of every asynchronous backend and ledger call.
#pragma once

#include <functional>

#include "tenure/errors.hpp"

namespace tenure {

// Runs later (never inline), exactly once, unless the backend was closed first.
template <class T>
using Completion = std::function<void(Result<T>)>;

}  // namespace tenure
