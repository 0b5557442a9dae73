//! Percent-decoding (`%XX`), shared by proxy credentials and resource-template variables.

/// Decodes `%XX` escapes; `None` for a broken one.
pub(crate) fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hex = |b: Option<u8>| char::from(b?).to_digit(16);
            let high = hex(bytes.next())?;
            let low = hex(bytes.next())?;
            out.push(u8::try_from(high * 16 + low).ok()?);
        } else {
            out.push(b);
        }
    }
    Some(out)
}
