#pragma once
// The train layer: Trainer and LightningModule, Keras-style Model, callbacks, History.
#include "neurona/train/callback.hpp"
#include "neurona/train/callback_registry.hpp"
#include "neurona/train/callbacks.hpp"
#include "neurona/train/history.hpp"
#include "neurona/train/metric_registry.hpp"
#include "neurona/train/model.hpp"
#include "neurona/train/names.hpp"
#include "neurona/train/progress.hpp"
#include "neurona/train/trainer.hpp"
