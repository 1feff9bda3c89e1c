#pragma once
// The data layer: datasets and loaders, splits, CSV / IDX / .npy readers, transforms, synthetic
// sets and the DataModule.
#include "neurona/data/csv.hpp"
#include "neurona/data/datamodule.hpp"
#include "neurona/data/dataset.hpp"
#include "neurona/data/idx.hpp"
#include "neurona/data/npy.hpp"
#include "neurona/data/split.hpp"
#include "neurona/data/synthetic.hpp"
#include "neurona/data/transforms.hpp"
