//===- Npy.h - NumPy .npy files ----------------------------------*- C++ -*-===//
//
// Reads and writes NumPy's .npy format (versions 1-3, C order, little
// endian), the way tensors go in and out of squant-run.
//
//===----------------------------------------------------------------------===//

#ifndef SQUANT_EXECUTION_NPY_H
#define SQUANT_EXECUTION_NPY_H

#include "mlir/IR/Types.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::squant {

struct NpyArray {
  std::string descr;           ///< NumPy dtype string, e.g. "<f4", "|i1"
  std::vector<int64_t> shape;  ///< empty for a 0-d array
  std::vector<char> data;      ///< C order, little endian

  int64_t numElements() const;
};

/// Reads `path`; errors name the file and what is wrong with it.
llvm::Expected<NpyArray> readNpy(llvm::StringRef path);

/// Writes `array` to `path` (format version 1.0).
llvm::Error writeNpy(llvm::StringRef path, const NpyArray &array);

/// The dtype string that holds `elementType` (f16, f32, f64, i1, i8-i64,
/// ui8-ui64), or an empty string when NumPy has none (bf16).
std::string npyDescrFor(Type elementType);

/// Bytes per element of a dtype string, or 0 when it is not one squant reads.
int64_t npyItemSize(llvm::StringRef descr);

} // namespace mlir::squant

#endif // SQUANT_EXECUTION_NPY_H
