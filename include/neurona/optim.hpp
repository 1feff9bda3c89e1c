#pragma once
// The optim layer: optimizers, regularisation and gradient clipping, learning-rate schedules and
// the learning-rate finder.
#include "neurona/optim/lr_finder.hpp"
#include "neurona/optim/optimizer.hpp"
#include "neurona/optim/optimizers.hpp"
#include "neurona/optim/registry.hpp"
#include "neurona/optim/regularization.hpp"
#include "neurona/optim/schedulers.hpp"
