//! The C export as a zip: the whole deployable package of `bitgru::io::c_export` (`<prefix>.h`,
//! `<prefix>.c`: the integer kernel; `<prefix>_io.h`, `<prefix>_io.c`: input scales, quantizer,
//! class names; `<prefix>_test.c`: golden vectors and a checking `main`), the same files
//! `bitgru export --format c` writes, plus a usage example and a README.
use crate::protocol::ModelInfo;
use crate::WebError;
use bitgru::io::c_export::{export_c_with, CExportOptions, MAX_PREFIX_LEN};
use bitgru::QuantGru;
use std::io::Write;

/// A C identifier prefix from a task name (`row-mnist` → `row_mnist`), else `bitgru_model`.
pub fn c_prefix(task: &str) -> String {
    let p: String = task
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if p.is_empty() || p.len() > MAX_PREFIX_LEN || !p.starts_with(|c: char| c.is_ascii_alphabetic())
    {
        "bitgru_model".into()
    } else {
        p
    }
}

fn example(prefix: &str) -> String {
    let up = prefix.to_ascii_uppercase();
    format!(
        r#"/* Usage example: reads whitespace-separated int8 input codes (steps x {up}_INPUT_SIZE,
 * quantized with the per-channel input scales listed in {prefix}.h) from stdin and prints the
 * predicted class.
 *
 *   cc -std=c99 -O2 -o example example.c {prefix}.c && ./example < codes.txt
 */
#include <stdio.h>
#include "{prefix}.h"

#define MAX_STEPS 1024

int main(void) {{
    static int8_t x[MAX_STEPS * {up}_INPUT_SIZE];
    size_t n = 0;
    int v;
    while (n < sizeof x && scanf("%d", &v) == 1) {{
        x[n++] = (int8_t)v;
    }}
    size_t steps = n / {up}_INPUT_SIZE;
    if (steps == 0) {{
        fprintf(stderr, "expected at least %d codes\n", {up}_INPUT_SIZE);
        return 1;
    }}
    int32_t logits[{up}_CLASSES];
    {prefix}_run(x, steps, logits);
    printf("%u\n", (unsigned){prefix}_argmax(logits));
    return 0;
}}
"#
    )
}

/// The zip (deflated) of the C export of `q`.
pub fn c_zip(q: &QuantGru, info: &ModelInfo) -> Result<Vec<u8>, WebError> {
    let prefix = c_prefix(&info.task);
    let opt = CExportOptions {
        // The model's class names when they fit (a model without names gets c0, c1, …).
        class_names: if info.class_names.len() == q.classes {
            info.class_names.clone()
        } else {
            Vec::new()
        },
        ..CExportOptions::default()
    };
    let c = export_c_with(q, &prefix, &opt)?;
    let readme = format!(
        "# {prefix}: integer-only GRU in C99\n\nExported by the bitgru web app from `{file}` ({task} \
         task) at genome `{genome}` ({bytes} bytes in the size metric; {ro} bytes of read-only \
         data, {storage} storage).\n\n\
         - `{prefix}.h`, `{prefix}.c`: the kernel (no floating point, no malloc)\n\
         - `{prefix}_io.h`, `{prefix}_io.c`: input scales, the bit-exact input quantizer, class \
         names (float, for the host side)\n\
         - `{prefix}_test.c`: golden vectors (features, codes, expected logits) and a `main` that \
         checks them: run it on your target to verify the port\n\
         - `example.c`: reads input codes, prints the class\n\n\
         Check: `cc -std=c99 -O2 -o {prefix}_test {prefix}_test.c {prefix}_io.c {prefix}.c && \
         ./{prefix}_test`\n\n\
         Example: `cc -std=c99 -O2 -o example example.c {prefix}.c`\n",
        file = info.file_name,
        task = info.task,
        genome = q.genome,
        bytes = bitgru::size::report(&q.genome, q.dims()).bytes,
        ro = c.storage.c_rodata_packed,
        storage = c.storage_kind.name(),
    );
    let zip_err = |e: zip::result::ZipError| WebError::Request {
        what: "zip",
        detail: e.to_string(),
    };
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let example = example(&prefix);
    let files = [
        (c.header_name.as_str(), c.header.as_str()),
        (c.source_name.as_str(), c.source.as_str()),
    ]
    .into_iter()
    .chain(
        c.package
            .iter()
            .map(|f| (f.name.as_str(), f.contents.as_str())),
    )
    .chain([
        ("example.c", example.as_str()),
        ("README.md", readme.as_str()),
    ]);
    for (name, text) in files {
        z.start_file(format!("{prefix}/{name}"), opts)
            .map_err(zip_err)?;
        z.write_all(text.as_bytes())
            .map_err(|e| WebError::Request {
                what: "zip",
                detail: e.to_string(),
            })?;
    }
    Ok(z.finish().map_err(zip_err)?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_c_identifiers() {
        assert_eq!(c_prefix("row-mnist"), "row_mnist");
        assert_eq!(c_prefix("kws10"), "kws10");
        assert_eq!(c_prefix("10x"), "bitgru_model");
        assert_eq!(c_prefix(""), "bitgru_model");
        assert_eq!(c_prefix(&"a".repeat(40)), "bitgru_model");
    }

    /// The zip holds the whole package the CLI writes (kernel, io, golden test), with the
    /// model's class names.
    #[test]
    fn c_zip_holds_the_deployable_package() {
        use std::io::Read;
        let m = bitgru::synth::random_model(3, 4, 6, 3);
        let seqs = bitgru::synth::random_sequences(4, 8, 5, 4);
        let refs: Vec<&[f32]> = seqs.iter().map(|v| v.as_slice()).collect();
        let cal = bitgru::Calibration::compute(&m, &refs).unwrap();
        let q = QuantGru::prepare(&m, &cal, &"34567823456782345".parse().unwrap()).unwrap();
        let info = ModelInfo {
            task: "kws-demo".into(),
            class_names: vec!["yes".into(), "no".into(), "_unknown_".into()],
            dims: q.dims(),
            n_params: 0,
            calibration_sequences: 8,
            kind: "bundle".into(),
            file_name: "demo.safetensors".into(),
            file_bytes: 0,
            fixed_genome: None,
            steps: Some(5),
            eval_sequences: 0,
            eval_source: String::new(),
        };
        let bytes = c_zip(&q, &info).unwrap();
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut names: Vec<String> = z.file_names().map(String::from).collect();
        names.sort();
        let want = [
            "kws_demo.c",
            "kws_demo.h",
            "kws_demo_io.c",
            "kws_demo_io.h",
            "kws_demo_test.c",
            "example.c",
            "README.md",
        ];
        let mut want: Vec<String> = want.iter().map(|f| format!("kws_demo/{f}")).collect();
        want.sort();
        assert_eq!(names, want);
        let mut io = String::new();
        z.by_name("kws_demo/kws_demo_io.c")
            .unwrap()
            .read_to_string(&mut io)
            .unwrap();
        assert!(io.contains("\"_unknown_\""), "{io}");
        let mut readme = String::new();
        z.by_name("kws_demo/README.md")
            .unwrap()
            .read_to_string(&mut readme)
            .unwrap();
        assert!(
            readme.contains("kws_demo_test.c kws_demo_io.c kws_demo.c"),
            "{readme}"
        );
    }
}
