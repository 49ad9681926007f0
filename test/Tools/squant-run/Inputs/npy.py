"""Writes and reads small .npy files without NumPy (for squant-run's tests).

  npy.py write OUT DESCR SHAPE V1,V2,...   e.g. write x.npy '<f4' 2x3 1,2,3,4,5,6
  npy.py read FILE                         prints descr, shape and values
  npy.py raw OUT BYTES                     writes arbitrary bytes (bad files)
"""
import ast
import struct
import sys

FORMATS = {"<f4": "f", "<f8": "d", "|i1": "b", "|u1": "B", "<i4": "i", "<i8": "q"}


def write(path, descr, shape, values):
    dims = tuple(int(d) for d in shape.split("x")) if shape else ()
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, repr(dims))
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    data = b"".join(struct.pack("<" + FORMATS[descr], ast.literal_eval(v))
                    for v in values.split(",") if v)
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + data)


def read(path):
    blob = open(path, "rb").read()
    n = struct.unpack("<H", blob[8:10])[0]
    header = ast.literal_eval(blob[10:10 + n].decode())
    fmt = FORMATS[header["descr"]]
    size = struct.calcsize(fmt)
    data = blob[10 + n:]
    values = [struct.unpack("<" + fmt, data[i:i + size])[0] for i in range(0, len(data), size)]
    print("descr", header["descr"], "shape", header["shape"], "values", values)


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] if len(sys.argv) > 5 else "")
    elif sys.argv[1] == "raw":
        open(sys.argv[2], "wb").write(sys.argv[3].encode())
    else:
        read(sys.argv[2])
