#pragma once
// The data layer: datasets and loaders, splits, CSV / IDX / .npy / image readers, transforms and
// augmentation, synthetic sets and the DataModule.
#include "neurona/data/augment.hpp"
#include "neurona/data/csv.hpp"
#include "neurona/data/datamodule.hpp"
#include "neurona/data/dataset.hpp"
#include "neurona/data/idx.hpp"
#include "neurona/data/image_folder.hpp"
#include "neurona/data/npy.hpp"
#include "neurona/data/split.hpp"
#include "neurona/data/synthetic.hpp"
#include "neurona/data/transforms.hpp"
