//===- SemaWarnings.cpp - Warnings about models that check cleanly --------===//
//
// After a model has no errors: inputs and params that no computation reads
// (-Wunused), dimensions declared and never used (-Wunused-dim), and masks
// that mask no key at the model's static sizes (-Wempty-mask). Each is a
// DiagnosticReporter warning, silenced by -Wno-GROUP and turned into an
// error by -Werror.
//
//===----------------------------------------------------------------------===//

#include "ModelChecker.h"

using namespace attnc;
using namespace attnc::sema;

void ModelChecker::warnUnused() {
  unsigned errorsBefore = diag.numErrors();
  // Every value something reads.
  llvm::DenseSet<ValueId> read;
  for (const ValueSpec &v : spec.values)
    read.insert(v.operands.begin(), v.operands.end());
  for (const AttentionSpec &a : spec.attentions) {
    for (const StepOperand *o : {&a.query, &a.keys, &a.values})
      for (ValueId id : {o->source, o->weight, o->bias})
        read.insert(id);
    read.insert(a.scoreParams.begin(), a.scoreParams.end());
    read.insert(a.lengths);
    read.insert(a.prefix);
    for (const ScalarProgram *p : {&a.scoreModifier, &a.maskPredicate,
                                   &a.weightFactor, &a.keyRange})
      for (const ScalarTable &t : p->tables)
        read.insert(t.value);
  }
  for (const PendingOutput &o : outputs)
    read.insert(o.value);
  for (auto [index, arg] : llvm::enumerate(spec.args)) {
    if (arg.role == Role::Output)
      continue;
    ValueId v = index < argValues.size() ? argValues[index] : -1;
    if (v >= 0 && read.contains(v))
      continue;
    diag.warning(arg.loc, WarningGroup::Unused,
                 std::string(arg.role == Role::Input ? "input" : "param") +
                     " '" + arg.name + "' is never used");
  }
  // Dimensions of `dims` that no shape, count or expression names.
  for (const auto &entry : modelScope.symbols) {
    const Symbol &sym = entry.second;
    if (sym.kind == SymKind::Dim && !sym.used)
      diag.warning(sym.loc, WarningGroup::UnusedDim,
                   "dimension '" + entry.first() + "' is never used");
  }
  if (diag.numErrors() > errorsBefore) // -Werror
    failed = true;
}

void ModelChecker::warnEmptyMasks() {
  unsigned errorsBefore = diag.numErrors();
  for (const AttentionSpec &a : spec.attentions) {
    // The static query and key counts, when both are known.
    const Shape &keys = infos[a.keys.source].shape;
    const Shape &queries = infos[a.query.source].shape;
    if (keys.size() < 2)
      continue;
    const ShapeEntry &nkEntry = keys[keys.size() - 2].entry;
    std::optional<int64_t> nq = 1;
    if (a.multiQuery) {
      if (queries.size() < 2 || queries[queries.size() - 2].entry.isDynamic())
        nq = std::nullopt;
      else
        nq = queries[queries.size() - 2].entry.staticSize;
    }
    if (nkEntry.isDynamic() || !nq || *nq == 0 || nkEntry.staticSize == 0)
      continue;
    int64_t nk = nkEntry.staticSize;
    std::string sizes = " (n_q = " + std::to_string(*nq) +
                        ", n_k = " + std::to_string(nk) + ")";
    // Query i sees i + lower <= l <= i + upper: nothing is masked when the
    // first query's upper end and the last query's lower end cover [0, nk).
    if ((a.bandLower || a.bandUpper) &&
        (!a.bandLower || *a.bandLower <= -(*nq - 1)) &&
        (!a.bandUpper || *a.bandUpper >= nk - 1))
      diag.warning(a.maskLoc, WarningGroup::EmptyMask,
                   "this mask masks no key at the declared sizes" + sizes);
    // causal(o): query i sees l <= i + nk - nq + o.
    if (a.causal && a.prefix < 0 && !a.window &&
        nk - *nq + a.causalOffset.value_or(0) >= nk - 1)
      diag.warning(a.maskLoc, WarningGroup::EmptyMask,
                   "this causal mask masks no key at the declared sizes" +
                       sizes);
  }
  if (diag.numErrors() > errorsBefore) // -Werror
    failed = true;
}
