//===- BufferizableOpInterfaceImpl.cpp - Bufferization of attn ops --------===//
//
// attn.linear, attn.attention, attn.activation and attn.softmax on tensors
// become the same ops on memrefs: every tensor operand is replaced by its
// buffer and the results by the buffers of the inits (destination-passing
// style, as linalg). The inits are overwritten entirely, never read, so a
// `tensor.empty` init needs no copy and an output argument can be written in
// place (with -eliminate-empty-tensors).
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/Transforms/BufferizableOpInterfaceImpl.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/IR/DstBufferizableOpInterfaceImpl.h"
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;
using namespace mlir::bufferization;

namespace {

template <typename OpTy>
struct AttnDpsOpInterface
    : public DstBufferizableOpInterfaceExternalModel<AttnDpsOpInterface<OpTy>,
                                                     OpTy> {
  bool bufferizesToMemoryRead(Operation *op, OpOperand &operand,
                              const AnalysisState &state) const {
    return !cast<DestinationStyleOpInterface>(op).isDpsInit(&operand);
  }

  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options) const {
    auto dps = cast<DestinationStyleOpInterface>(op);
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPoint(op);
    SmallVector<Value> operands;
    for (Value operand : op->getOperands()) {
      if (!isa<TensorType>(operand.getType())) {
        operands.push_back(operand);
        continue;
      }
      FailureOr<Value> buffer = getBuffer(rewriter, operand, options);
      if (failed(buffer))
        return failure();
      operands.push_back(*buffer);
    }
    OperationState state(op->getLoc(), op->getName());
    state.addOperands(operands);
    state.addAttributes(llvm::to_vector(op->getDiscardableAttrs()));
    state.propertiesAttr = op->getPropertiesAsAttribute();
    rewriter.create(state);
    SmallVector<Value> results;
    for (OpOperand &init : dps.getDpsInitsMutable())
      results.push_back(operands[init.getOperandNumber()]);
    replaceOpWithBufferizedValues(rewriter, op, results);
    return success();
  }
};

} // namespace

void mlir::attn::registerBufferizableOpInterfaceExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, AttnDialect *) {
    LinearOp::attachInterface<AttnDpsOpInterface<LinearOp>>(*ctx);
    AttentionOp::attachInterface<AttnDpsOpInterface<AttentionOp>>(*ctx);
    ActivationOp::attachInterface<AttnDpsOpInterface<ActivationOp>>(*ctx);
    SoftmaxOp::attachInterface<AttnDpsOpInterface<SoftmaxOp>>(*ctx);
  });
}
