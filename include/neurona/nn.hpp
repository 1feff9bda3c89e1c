#pragma once
// The nn layer: modules, layers (and their registry), functional ops, losses, initialisers, metrics,
// summary() and the model zoo.
#include "neurona/nn/blocks.hpp"
#include "neurona/nn/functional.hpp"
#include "neurona/nn/image_layers.hpp"
#include "neurona/nn/init.hpp"
#include "neurona/nn/layers.hpp"
#include "neurona/nn/loss.hpp"
#include "neurona/nn/metrics.hpp"
#include "neurona/nn/module.hpp"
#include "neurona/nn/registry.hpp"
#include "neurona/nn/summary.hpp"
#include "neurona/nn/zoo.hpp"
