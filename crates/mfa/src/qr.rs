//! The QR code image (`QRCodePNG`) that `CreateVirtualMFADevice` returns.

use qrcode::{Color, QrCode};

/// Pixels per QR module side in [`qr_png`]'s output. Six keeps a full-size
/// seed URI (a version 6 or 7 code, about 45 modules) near 300 pixels square,
/// easy for a phone camera to read off a screen.
pub const QR_SCALE: u32 = 6;

/// Light modules around the code in [`qr_png`]'s output: the quiet zone that
/// ISO/IEC 18004 requires for scanners to find the finder patterns.
pub const QR_QUIET_ZONE_MODULES: u32 = 4;

/// Why [`qr_png`] produced no image.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QrError {
    /// The text does not fit in the largest QR code (version 40).
    #[error("the text is too long for a QR code")]
    TooLong,
    /// The QR or PNG encoder failed for another reason; not expected for any
    /// input, but reported rather than panicking.
    #[error("could not encode the QR code image: {0}")]
    Encode(String),
}

/// Renders `text` as a QR code in a PNG image.
///
/// The image is 1-bit grayscale (black modules on white), with a quiet zone of
/// [`QR_QUIET_ZONE_MODULES`] and each module [`QR_SCALE`] pixels square, so its
/// side is `(modules + 2 * QR_QUIET_ZONE_MODULES) * QR_SCALE` pixels. The error
/// correction level is M (15% recoverable), the usual choice for screens.
///
/// # Errors
///
/// [`QrError::TooLong`] when `text` does not fit in a QR code;
/// [`QrError::Encode`] should an encoder fail otherwise.
pub fn qr_png(text: &str) -> Result<Vec<u8>, QrError> {
    let code = QrCode::new(text.as_bytes()).map_err(|error| match error {
        qrcode::types::QrError::DataTooLong => QrError::TooLong,
        other => QrError::Encode(other.to_string()),
    })?;
    let modules = code.width();
    let colors = code.to_colors();

    let scale = QR_SCALE as usize;
    let quiet = QR_QUIET_ZONE_MODULES as usize;
    let side = (modules + 2 * quiet) * scale;
    let side_u32 = u32::try_from(side).map_err(|error| QrError::Encode(error.to_string()))?;

    // 1-bit grayscale: a set bit is white, rows are packed MSB first and
    // padded to a whole byte (the padding bits are ignored by decoders).
    let row_bytes = side.div_ceil(8);
    let light_row = vec![0xff_u8; row_bytes];
    let mut pixels = Vec::with_capacity(row_bytes * side);
    for _ in 0..quiet * scale {
        pixels.extend_from_slice(&light_row);
    }
    for module_row in colors.chunks(modules.max(1)) {
        let mut row = light_row.clone();
        for (x, color) in module_row.iter().enumerate() {
            if *color == Color::Dark {
                let first = (quiet + x) * scale;
                for pixel in first..first + scale {
                    row[pixel / 8] &= !(0x80 >> (pixel % 8));
                }
            }
        }
        for _ in 0..scale {
            pixels.extend_from_slice(&row);
        }
    }
    for _ in 0..quiet * scale {
        pixels.extend_from_slice(&light_row);
    }

    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, side_u32, side_u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    let encode_error = |error: png::EncodingError| QrError::Encode(error.to_string());
    let mut writer = encoder.write_header().map_err(encode_error)?;
    writer.write_image_data(&pixels).map_err(encode_error)?;
    writer.finish().map_err(encode_error)?;
    Ok(png)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{otpauth_uri, Seed};
    use std::io::Cursor;

    const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];

    /// Decodes to 8-bit grayscale: (side, pixels row-major).
    fn decode(png_bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let mut decoder = png::Decoder::new(Cursor::new(png_bytes));
        decoder.set_transformations(png::Transformations::normalize_to_color8());
        let mut reader = decoder.read_info().expect("PNG header");
        let mut buffer = vec![0; reader.output_buffer_size().expect("buffer size")];
        let info = reader.next_frame(&mut buffer).expect("PNG frame");
        assert_eq!(info.color_type, png::ColorType::Grayscale);
        assert_eq!(info.bit_depth, png::BitDepth::Eight);
        assert_eq!(info.line_size, info.width as usize);
        buffer.truncate(info.buffer_size());
        (info.width, info.height, buffer)
    }

    fn sample_uri() -> String {
        let seed = Seed::from_bytes(b"12345678901234567890".to_vec());
        otpauth_uri("iamd", "my-device@123456789012", &seed)
    }

    #[test]
    fn is_a_png_of_the_right_size_with_quiet_zone_and_finder_pattern() {
        let text = sample_uri();
        let png_bytes = qr_png(&text).expect("fits");
        assert!(png_bytes.starts_with(&PNG_SIGNATURE));

        let modules = QrCode::new(text.as_bytes()).expect("fits").width() as u32;
        let expected_side = (modules + 2 * QR_QUIET_ZONE_MODULES) * QR_SCALE;
        let (width, height, pixels) = decode(&png_bytes);
        assert_eq!((width, height), (expected_side, expected_side));

        let at = |x: u32, y: u32| pixels[(y * width + x) as usize];
        let corner = QR_QUIET_ZONE_MODULES * QR_SCALE;
        assert_eq!(at(0, 0), 255, "quiet zone is white");
        assert_eq!(at(corner - 1, corner - 1), 255, "quiet zone's inner edge");
        assert_eq!(
            at(corner, corner),
            0,
            "finder pattern's outer corner is black"
        );
        assert_eq!(at(width - 1, height - 1), 255);
    }

    #[test]
    fn every_module_is_drawn_where_it_belongs() {
        let text = sample_uri();
        let code = QrCode::new(text.as_bytes()).expect("fits");
        let modules = code.width();
        let (width, _, pixels) = decode(&qr_png(&text).expect("fits"));
        let scale = QR_SCALE as usize;
        let quiet = QR_QUIET_ZONE_MODULES as usize;
        for (index, color) in code.to_colors().iter().enumerate() {
            let (mx, my) = (index % modules, index / modules);
            let want = if *color == Color::Dark { 0 } else { 255 };
            // Check all of the module's pixels.
            for dy in 0..scale {
                for dx in 0..scale {
                    let x = (quiet + mx) * scale + dx;
                    let y = (quiet + my) * scale + dy;
                    assert_eq!(pixels[y * width as usize + x], want, "module ({mx}, {my})");
                }
            }
        }
    }

    #[test]
    fn text_too_long_is_an_error_not_a_panic() {
        assert_eq!(qr_png(&"x".repeat(8000)), Err(QrError::TooLong));
        assert!(qr_png("").is_ok());
    }
}
