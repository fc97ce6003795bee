//===- attn-opt.cpp - mlir-opt with the attn dialect ----------------------===//
//
// MlirOptMain with the attn dialect, its passes, the upstream dialects and
// passes the pipelines use, and attnc's named pipelines (attn-to-loops,
// attn-to-llvm). Used by the lit tests and by users who want to run single
// passes on IR printed by `attnc --emit=attn`.
//
//===----------------------------------------------------------------------===//

#include "attnc/Pipeline/Pipelines.h"

#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  attnc::registerDialects(registry);
  attnc::registerPassesAndPipelines();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "attn optimizer driver\n", registry));
}
