//===- SQuantBase.td - squant dialect definition ------------*- tablegen -*-===//
//
// The squant dialect: low-bit weight quantization with float zero points,
// stretched grids and lookup tables, in the exact numerics of
// ../shared/spec/SEMANTICS.md.
//
//===----------------------------------------------------------------------===//

#ifndef SQUANT_DIALECT_SQUANT_IR_SQUANTBASE_TD
#define SQUANT_DIALECT_SQUANT_IR_SQUANTBASE_TD

include "mlir/IR/OpBase.td"

def SQuant_Dialect : Dialect {
  let name = "squant";
  let cppNamespace = "::mlir::squant";
  let summary = "Low-bit weight quantization: affine, stretched and LUT forms";
  let description = [{
    squant models weights quantized to 1-8 bits as SSA tensors of integer
    codes with per-tensor, per-axis or per-group scales and zero points
    (integer or float), torchao's stretched grid and lookup tables. The scheme
    of a tensor is an attribute (`#squant.affine`, `#squant.lut`); its scales,
    zero points and tables are SSA operands, never type parameters, so a
    4096x4096 int4 weight with group 128 carries its 131,072 scales as a
    tensor.

    Every op states its formula; the exact sequence of IEEE operations each
    formula means is the squant numeric contract (docs/Numerics.md), and the
    folders evaluate it with the reference library.
  }];
  let useDefaultAttributePrinterParser = 1;
  let hasConstantMaterializer = 1;
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

class SQuant_Op<string mnemonic, list<Trait> traits = []>
    : Op<SQuant_Dialect, mnemonic, traits>;

#endif // SQUANT_DIALECT_SQUANT_IR_SQUANTBASE_TD
