#pragma once
// The callbacks users can name in config files, with their options and defaults (Keras's and
// Lightning's, from the callbacks' own options structs in train/callbacks.hpp):
// train::callbacks().get("early_stopping").make(options, context).
#include <memory>

#include "neurona/core/registry.hpp"
#include "neurona/train/callback.hpp"

namespace neurona::train {

// What a callback is built with besides its options: the fit it joins.
struct CallbackContext {
  bool verbose = true;       // the fit prints (a config's fit.verbose != 0): the default of `verbose`
                             // for early_stopping and reduce_lr_on_plateau
  bool has_log_dir = false;  // the fit writes a run directory (a config's logging.dir), where
                             // model_checkpoint saves when it has no dirpath
};

using CallbackEntry = Entry<std::shared_ptr<Callback>, const CallbackContext&>;
const Registry<CallbackEntry>& callbacks();

struct BackboneFinetuningOptions;
// A backbone_finetuning row's options as the callback's (the config's compile reads `backbone`
// from it to give those parameters their own optimizer group).
BackboneFinetuningOptions backbone_finetuning_options(const Options& options, const CallbackContext& context);

}  // namespace neurona::train
