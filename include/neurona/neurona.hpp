#pragma once
// One include for everything Neurona offers.
#include "neurona/core/error.hpp"
#include "neurona/core/kernels.hpp"
#include "neurona/core/pool.hpp"
#include "neurona/core/random.hpp"
#include "neurona/core/shape.hpp"
#include "neurona/core/tensor.hpp"
#include "neurona/core/threads.hpp"
#include "neurona/autograd/gradcheck.hpp"
#include "neurona/autograd/node.hpp"
#include "neurona/io.hpp"
#include "neurona/app/devices.hpp"
