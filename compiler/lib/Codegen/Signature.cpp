//===- Signature.cpp - Signature JSON and C header of models --------------===//
//
// See Signature.h. The JSON written here is parsed again by the runtime
// (runtime/lib/Runtime.c, once per model), whose reader accepts exactly this
// format: keep the two in step.
//
//===----------------------------------------------------------------------===//

#include "attnc/Codegen/Signature.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>

using namespace attnc;

llvm::StringRef attnc::dtypeName(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "f32";
  case DType::F64:
    return "f64";
  case DType::F16:
    return "f16";
  case DType::BF16:
    return "bf16";
  case DType::I32:
    return "i32";
  case DType::I64:
    return "i64";
  }
  llvm_unreachable("unknown dtype");
}

llvm::StringRef attnc::roleName(Role role) {
  switch (role) {
  case Role::Input:
    return "input";
  case Role::Param:
    return "param";
  case Role::Output:
    return "output";
  }
  llvm_unreachable("unknown role");
}

/// Writes `s` as a JSON string literal. Names are identifiers in practice,
/// but the runtime must never see a malformed signature, whatever the input.
static void writeJSONString(llvm::raw_ostream &os, llvm::StringRef s) {
  os << '"';
  for (unsigned char c : s) {
    switch (c) {
    case '"':
      os << "\\\"";
      break;
    case '\\':
      os << "\\\\";
      break;
    case '\n':
      os << "\\n";
      break;
    case '\r':
      os << "\\r";
      break;
    case '\t':
      os << "\\t";
      break;
    default:
      if (c < 0x20)
        os << llvm::format("\\u%04x", c);
      else
        os << c;
    }
  }
  os << '"';
}

std::string attnc::signatureJSON(const ModelABI &model) {
  std::string out;
  llvm::raw_string_ostream os(out);
  os << "{\"name\":";
  writeJSONString(os, model.name);
  os << ",\"args\":[";
  llvm::interleave(
      model.args, os,
      [&](const ArgSpec &arg) {
        os << "{\"name\":";
        writeJSONString(os, arg.name);
        os << ",\"role\":\"" << roleName(arg.role) << "\",\"dtype\":\""
           << dtypeName(arg.dtype) << "\",\"shape\":[";
        llvm::interleave(
            arg.shape, os,
            [&](const ShapeEntry &dim) {
              if (dim.isDynamic())
                writeJSONString(os, dim.dynName);
              else
                os << dim.staticSize;
            },
            ",");
        os << "]}";
      },
      ",");
  os << "]}";
  return out;
}

/// `f32[b, n, 64]`
static std::string typeText(const ArgSpec &arg) {
  std::string out;
  llvm::raw_string_ostream os(out);
  os << dtypeName(arg.dtype) << '[';
  llvm::interleaveComma(arg.shape, os, [&](const ShapeEntry &dim) {
    if (dim.isDynamic())
      os << dim.dynName;
    else
      os << dim.staticSize;
  });
  os << ']';
  return out;
}

/// Text placed inside a C block comment; "*/" would end it early.
static std::string commentSafe(llvm::StringRef s) {
  std::string out = s.str();
  for (size_t pos; (pos = out.find("*/")) != std::string::npos;)
    out.replace(pos, 2, "* /");
  return out;
}

static void writeModel(llvm::raw_ostream &os, const ModelABI &model,
                       bool cuda) {
  const std::string m = model.name;
  const std::string safeM = commentSafe(m);

  // Dynamic dimensions, in order of first use: the caller chooses them.
  std::vector<std::string> dynDims;
  for (const ArgSpec &arg : model.args)
    for (const ShapeEntry &dim : arg.shape)
      if (dim.isDynamic() && !llvm::is_contained(dynDims, dim.dynName))
        dynDims.push_back(dim.dynName);

  size_t nameWidth = 4, roleWidth = 6;
  for (const ArgSpec &arg : model.args)
    nameWidth = std::max(nameWidth, arg.name.size());

  os << "/* Model `" << safeM << "`.\n"
     << " *\n"
     << " * attnc_" << safeM << "(args, nargs): nargs == ATTNC_" << safeM
     << "_NUM_ARGS\n"
     << " * contiguous row-major tensors, in this order:\n"
     << " *\n"
     << " *   #   " << llvm::left_justify("name", nameWidth) << "  "
     << llvm::left_justify("role", roleWidth) << "  type\n";
  for (auto [i, arg] : llvm::enumerate(model.args)) {
    os << " *   " << llvm::left_justify(std::to_string(i), 2) << "  "
       << llvm::left_justify(commentSafe(arg.name), nameWidth) << "  "
       << llvm::left_justify(roleName(arg.role), roleWidth) << "  "
       << commentSafe(typeText(arg)) << "\n";
  }
  os << " *\n";
  if (!dynDims.empty()) {
    os << " * Dynamic dimensions: ";
    llvm::interleaveComma(dynDims, os,
                          [&](const std::string &d) { os << commentSafe(d); });
    os << " (each must have the same size wherever it\n"
       << " * appears; inputs and params determine it).\n";
  } else {
    os << " * All dimensions are static.\n";
  }
  os << " * Returns 0 on success, non-zero when an argument is refused; the "
        "message is\n"
     << " * then in attnc_" << safeM << "_last_error() (per thread).\n"
     << " * attnc_" << safeM
     << "_signature() returns this list as JSON (see attnc/attnc.h).\n";
  if (cuda)
    os << " *\n"
       << " * A CUDA library: attnc_" << safeM
       << " takes host pointers (the arguments are copied to\n"
       << " * the GPU and the outputs back); attnc_" << safeM
       << "_cuda takes device pointers and\n"
       << " * runs on `stream` (a CUstream, NULL for the default stream); "
          "both return\n"
       << " * when the outputs are written (see attnc/attnc.h).\n";
  os << " */\n";

  os << "enum {\n";
  for (auto [i, arg] : llvm::enumerate(model.args))
    os << "  ATTNC_" << m << "_ARG_" << arg.name << " = " << i << ",\n";
  os << "  ATTNC_" << m << "_NUM_ARGS = " << model.args.size() << "\n"
     << "};\n\n";

  os << "int32_t attnc_" << m << "(attnc_tensor *args, int32_t nargs);\n";
  if (cuda)
    os << "int32_t attnc_" << m
       << "_cuda(attnc_tensor *args, int32_t nargs, void *stream);\n";
  os << "const char *attnc_" << m << "_signature(void);\n"
     << "const char *attnc_" << m << "_last_error(void);\n";
}

std::string attnc::headerText(llvm::ArrayRef<ModelABI> models,
                              llvm::StringRef guardName, bool cuda) {
  std::string out;
  llvm::raw_string_ostream os(out);
  os << "/*===- Generated by attnc: the C interface of compiled models "
        "-----*- C -*-===*\n"
     << " *\n"
     << " * Do not edit. Link with the library that attnc built from the same "
        "source.\n"
     << " *\n"
     << " *===------------------------------------------------------------"
        "----------===*/\n\n"
     << "#ifndef " << guardName << "\n"
     << "#define " << guardName << "\n\n"
     << "#include <attnc/attnc.h>\n\n"
     << "#ifdef __cplusplus\n"
     << "extern \"C\" {\n"
     << "#endif\n";
  for (const ModelABI &model : models) {
    os << "\n";
    writeModel(os, model, cuda);
  }
  os << "\n#ifdef __cplusplus\n"
     << "}\n"
     << "#endif\n\n"
     << "#endif /* " << guardName << " */\n";
  return out;
}
