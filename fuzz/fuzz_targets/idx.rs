#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../readers.rs"]
mod readers;

fuzz_target!(|data: &[u8]| readers::run("idx", data));
