// Imported first by the CLI: a larger libuv threadpool before anything uses it. File reads, fsyncs,
// scrypt and zlib all share it; the default of 4 starves backup shipping and restore reads.
process.env.UV_THREADPOOL_SIZE ??= '16';
