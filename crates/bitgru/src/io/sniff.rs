//! Recognises model files of other frameworks that bitgru does not read, so that the error says
//! what the file is and how to export it to a supported format, instead of a parse error of the
//! wrong reader.
use crate::error::Error;
use std::io::Cursor;

/// How to write the float weights bitgru reads, from PyTorch.
pub const PYTORCH_EXPORT_HINT: &str = "export the state dict to safetensors instead: \
    `scripts/export_pytorch.py` (or `safetensors.torch.save_file(model.state_dict(), \
    \"model.safetensors\")` for a model with one `nn.GRU(batch_first=True)` and one \
    `nn.Linear` head)";

/// How to write the float weights bitgru reads, from Keras.
pub const KERAS_EXPORT_HINT: &str = "export the weights to npz instead: \
    `scripts/export_keras.py` (numpy.savez of the GRU's kernel, recurrent_kernel, bias and the \
    Dense layer's dense_kernel, dense_bias)";

const HDF5_MAGIC: &[u8] = b"\x89HDF\r\n\x1a\n";

/// If `bytes` are a model file of another framework (PyTorch `torch.save`, a `.keras` archive,
/// an HDF5 `.weights.h5` / `.h5` file), the error that says so and how to export.
pub fn foreign_format(bytes: &[u8]) -> Option<Error> {
    if bytes.starts_with(HDF5_MAGIC) {
        return Some(Error::Unsupported {
            format: "HDF5",
            detail: format!(
                "this is an HDF5 file (a Keras `.weights.h5` / `.h5` save), which bitgru does not \
                 read; {KERAS_EXPORT_HINT}"
            ),
        });
    }
    // Legacy (non-zip) torch.save: a pickle stream, protocol 2 to 5.
    if bytes.len() >= 2 && bytes[0] == 0x80 && (2..=5).contains(&bytes[1]) {
        return Some(Error::Unsupported {
            format: "PyTorch pickle",
            detail: format!(
                "this is a Python pickle (a legacy `torch.save` .pt/.pth file), which bitgru \
                 does not read (unpickling runs code); {PYTORCH_EXPORT_HINT}"
            ),
        });
    }
    if !bytes.starts_with(b"PK\x03\x04") {
        return None;
    }
    let zip = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    let names: Vec<&str> = zip.file_names().collect();
    if names
        .iter()
        .any(|n| *n == "data.pkl" || n.ends_with("/data.pkl"))
    {
        return Some(Error::Unsupported {
            format: "PyTorch .pt",
            detail: format!(
                "this is a `torch.save` archive (.pt/.pth: a zip holding data.pkl), which \
                 bitgru does not read (unpickling runs code); {PYTORCH_EXPORT_HINT}"
            ),
        });
    }
    if names.contains(&"config.json")
        && names
            .iter()
            .any(|n| *n == "model.weights.h5" || n.ends_with(".weights.h5"))
    {
        return Some(Error::Unsupported {
            format: "Keras .keras",
            detail: format!(
                "this is a `.keras` archive (config.json + model.weights.h5), which bitgru does \
                 not read; {KERAS_EXPORT_HINT}"
            ),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_with(names: &[&str]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for n in names {
            w.start_file(*n, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(b"x").unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn recognises_other_frameworks() {
        let msg = |b: &[u8]| foreign_format(b).unwrap().to_string();
        assert!(msg(b"\x89HDF\r\n\x1a\n\0\0").contains("export_keras.py"));
        assert!(msg(&[0x80, 0x02, b'}', b'q']).contains("legacy `torch.save`"));
        assert!(
            msg(&zip_with(&["archive/data.pkl", "archive/data/0"])).contains("export_pytorch.py")
        );
        assert!(msg(&zip_with(&[
            "metadata.json",
            "config.json",
            "model.weights.h5"
        ]))
        .contains("`.keras` archive"));
        assert!(foreign_format(&zip_with(&["kernel.npy"])).is_none());
        assert!(foreign_format(b"{}").is_none());
    }
}
