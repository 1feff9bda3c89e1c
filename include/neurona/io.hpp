#pragma once
// The io layer: files written atomically, safetensors weights, TensorBoard event files (writer
// and reader), MLflow runs, CSV metrics and the Logger interface over them.
#include "neurona/io/csv_logger.hpp"
#include "neurona/io/event_reader.hpp"
#include "neurona/io/files.hpp"
#include "neurona/io/logger.hpp"
#include "neurona/io/mlflow.hpp"
#include "neurona/io/run_info.hpp"
#include "neurona/io/safetensors.hpp"
#include "neurona/io/tensorboard.hpp"
#include "neurona/io/tfrecord.hpp"
