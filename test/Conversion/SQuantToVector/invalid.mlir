// RUN: squant-opt %s --convert-squant-to-vector=target=sse9 --verify-diagnostics --split-input-file

// expected-error @+1 {{convert-squant-to-vector: unknown target 'sse9' (host, avx512, avx2, generic)}}
module {
}
