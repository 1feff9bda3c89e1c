#pragma once
// Field numbers of the TensorBoard messages the writer and the reader use (private to src/io).
// From tensorboard/compat/proto/{event,summary,histogram,tensor,tensor_shape}.proto and
// tensorboard/plugins/hparams/{plugin_data,api}.proto; google.protobuf.Value from struct.proto.
#include <cstdint>

namespace neurona::io::tb {

namespace event {
constexpr uint32_t kWallTime = 1, kStep = 2, kFileVersion = 3, kSummary = 5;
}
namespace summary {
constexpr uint32_t kValue = 1;
}
namespace value {
constexpr uint32_t kTag = 1, kSimpleValue = 2, kHisto = 5, kTensor = 8, kMetadata = 9;
}
namespace metadata {
constexpr uint32_t kPluginData = 1;
}
namespace plugin_data {
constexpr uint32_t kPluginName = 1, kContent = 2;
}
namespace histo {
constexpr uint32_t kMin = 1, kMax = 2, kNum = 3, kSum = 4, kSumSquares = 5, kBucketLimit = 6, kBucket = 7;
}
namespace tensor {
constexpr uint32_t kDtype = 1, kShape = 2, kStringVal = 8;
constexpr uint64_t kDtFloat = 1, kDtString = 7;
}  // namespace tensor
namespace tensor_shape {
constexpr uint32_t kDim = 2;
}

// tensorboard.hparams
namespace hp_data {  // HParamsPluginData
constexpr uint32_t kVersion = 1, kExperiment = 2, kSessionStart = 3, kSessionEnd = 4;
}
namespace session_start {
constexpr uint32_t kHparams = 1, kGroupName = 4, kStartTimeSecs = 5;
}
namespace session_end {
constexpr uint32_t kStatus = 1, kEndTimeSecs = 2;
constexpr uint64_t kSuccess = 1, kFailure = 2;
}  // namespace session_end
namespace experiment {
constexpr uint32_t kTimeCreatedSecs = 3, kHparamInfos = 4, kMetricInfos = 5;
}
namespace hparam_info {
constexpr uint32_t kName = 1, kType = 4, kDomainDiscrete = 5;
constexpr uint64_t kString = 1, kBool = 2, kFloat64 = 3;
}  // namespace hparam_info
namespace metric_info {
constexpr uint32_t kName = 1;  // MetricName {group 1, tag 2}
constexpr uint32_t kGroup = 1, kTag = 2;
}  // namespace metric_info
namespace map_entry {
constexpr uint32_t kKey = 1, kValue = 2;
}
namespace pb_value {  // google.protobuf.Value / ListValue
constexpr uint32_t kNumber = 2, kString = 3, kBool = 4;
constexpr uint32_t kListValues = 1;
}  // namespace pb_value

}  // namespace neurona::io::tb
