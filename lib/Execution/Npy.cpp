//===- Npy.cpp - NumPy .npy files ------------------------------------------===//

#include "squant/Execution/Npy.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

using namespace mlir;
using namespace mlir::squant;

namespace {

constexpr char kMagic[] = "\x93NUMPY";

llvm::Error fail(llvm::StringRef path, const llvm::Twine &what) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 (path + ": " + what).str());
}

/// The value text of `key` in the header dictionary, up to the next ',' at
/// depth 0 (or the closing brace).
std::optional<llvm::StringRef> dictValue(llvm::StringRef header, llvm::StringRef key) {
  std::string quoted = ("'" + key + "'").str();
  size_t at = header.find(quoted);
  if (at == llvm::StringRef::npos)
    return std::nullopt;
  llvm::StringRef rest = header.drop_front(at + quoted.size()).ltrim();
  if (!rest.consume_front(":"))
    return std::nullopt;
  rest = rest.ltrim();
  int depth = 0;
  size_t end = 0;
  for (; end < rest.size(); ++end) {
    char c = rest[end];
    if (c == '(')
      ++depth;
    else if (c == ')')
      --depth;
    else if ((c == ',' || c == '}') && depth == 0)
      break;
  }
  return rest.take_front(end).trim();
}

} // namespace

int64_t NpyArray::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

int64_t mlir::squant::npyItemSize(llvm::StringRef descr) {
  static const std::pair<const char *, int64_t> known[] = {
      {"<f2", 2}, {"<f4", 4}, {"<f8", 8}, {"|b1", 1}, {"|i1", 1}, {"<i2", 2},
      {"<i4", 4}, {"<i8", 8}, {"|u1", 1}, {"<u2", 2}, {"<u4", 4}, {"<u8", 8}};
  for (auto [name, size] : known)
    if (descr == name)
      return size;
  return 0;
}

std::string mlir::squant::npyDescrFor(Type elementType) {
  if (elementType.isF16())
    return "<f2";
  if (elementType.isF32())
    return "<f4";
  if (elementType.isF64())
    return "<f8";
  auto i = dyn_cast<IntegerType>(elementType);
  if (!i)
    return "";
  if (i.getWidth() == 1)
    return "|b1";
  unsigned bytes = i.getWidth() / 8;
  if (i.getWidth() % 8 != 0 || (bytes != 1 && bytes != 2 && bytes != 4 && bytes != 8))
    return "";
  char kind = i.isUnsigned() ? 'u' : 'i';
  return std::string(bytes == 1 ? "|" : "<") + kind + std::to_string(bytes);
}

llvm::Expected<NpyArray> mlir::squant::readNpy(llvm::StringRef path) {
  auto file = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                          /*RequiresNullTerminator=*/false);
  if (!file)
    return fail(path, "cannot read: " + file.getError().message());
  llvm::StringRef bytes = (*file)->getBuffer();
  if (!bytes.starts_with(llvm::StringRef(kMagic, 6)) || bytes.size() < 10)
    return fail(path, "not a .npy file (no \\x93NUMPY magic)");
  unsigned major = static_cast<unsigned char>(bytes[6]);
  size_t headerLen, headerAt;
  if (major == 1) {
    headerLen = static_cast<unsigned char>(bytes[8]) |
                (static_cast<unsigned char>(bytes[9]) << 8);
    headerAt = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12)
      return fail(path, "truncated header");
    uint32_t len;
    std::memcpy(&len, bytes.data() + 8, 4);
    headerLen = len;
    headerAt = 12;
  } else {
    return fail(path, "unsupported .npy format version " + llvm::Twine(major));
  }
  if (headerAt + headerLen > bytes.size())
    return fail(path, "truncated header");
  llvm::StringRef header = bytes.substr(headerAt, headerLen);

  NpyArray array;
  std::optional<llvm::StringRef> descr = dictValue(header, "descr");
  std::optional<llvm::StringRef> order = dictValue(header, "fortran_order");
  std::optional<llvm::StringRef> shape = dictValue(header, "shape");
  if (!descr || !order || !shape)
    return fail(path, "header lacks descr, fortran_order or shape: " + header.trim());
  array.descr = descr->trim("'\"").str();
  if (npyItemSize(array.descr) == 0)
    return fail(path, "dtype '" + array.descr +
                          "' is not supported (little-endian bool, int, uint and "
                          "float of 2/4/8 bytes are)");
  if (*order != "False")
    return fail(path, "Fortran-order arrays are not supported; save with "
                      "np.ascontiguousarray");
  llvm::StringRef dims = shape->trim("()");
  llvm::SmallVector<llvm::StringRef> parts;
  dims.split(parts, ',', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef part : parts) {
    int64_t d;
    if (part.trim().getAsInteger(10, d) || d < 0)
      return fail(path, "bad shape " + *shape);
    array.shape.push_back(d);
  }
  size_t dataBytes = size_t(array.numElements()) * npyItemSize(array.descr);
  size_t dataAt = headerAt + headerLen;
  if (bytes.size() - dataAt != dataBytes)
    return fail(path, "holds " + llvm::Twine(bytes.size() - dataAt) +
                          " data bytes, its header says " + llvm::Twine(dataBytes));
  array.data.assign(bytes.begin() + dataAt, bytes.end());
  return array;
}

llvm::Error mlir::squant::writeNpy(llvm::StringRef path, const NpyArray &array) {
  std::string shape = "(";
  for (int64_t d : array.shape)
    shape += std::to_string(d) + (array.shape.size() == 1 ? "," : ", ");
  if (array.shape.size() > 1)
    shape.resize(shape.size() - 2);
  shape += ")";
  std::string header = "{'descr': '" + array.descr +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Data starts at a multiple of 64 bytes; the header ends with '\n'.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return fail(path, "cannot write: " + ec.message());
  os.write(kMagic, 6);
  os << '\x01' << '\x00';
  os << char(header.size() & 0xff) << char(header.size() >> 8);
  os << header;
  os.write(array.data.data(), array.data.size());
  os.close();
  if (os.has_error())
    return fail(path, "write failed: " + os.error().message());
  return llvm::Error::success();
}
