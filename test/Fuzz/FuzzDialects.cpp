//===- FuzzDialects.cpp - The dialect registry of the fuzz targets --------===//

#include "FuzzDialects.h"

#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "attn/Dialect/Attn/Transforms/BufferizableOpInterfaceImpl.h"

#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"

const mlir::DialectRegistry &attnc::fuzz::dialectRegistry() {
  static const mlir::DialectRegistry *registry = [] {
    auto *r = new mlir::DialectRegistry;
    r->insert<mlir::attn::AttnDialect>();
    mlir::attn::registerBufferizableOpInterfaceExternalModels(*r);
    mlir::registerAllDialects(*r);
    mlir::registerAllExtensions(*r);
    return r;
  }();
  return *registry;
}
