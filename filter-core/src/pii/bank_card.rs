//! Payment card numbers.

/// Whether the digits pass the Luhn (mod 10) check.
pub(crate) fn luhn(d: &[u8]) -> bool {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            let x = u32::from(x);
            if i % 2 == 1 {
                let y = x * 2;
                if y > 9 {
                    y - 9
                } else {
                    y
                }
            } else {
                x
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Whether 13 to 19 digits look like a payment card: a payment-network first
/// digit (3 Amex/JCB/Diners, 4 Visa, 5 Mastercard, 6 UnionPay/Discover) and
/// a valid Luhn check digit.
pub(crate) fn is_card(d: &[u8]) -> bool {
    (13..=19).contains(&d.len()) && (3..=6).contains(&d[0]) && luhn(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits(s: &str) -> Vec<u8> {
        s.bytes().map(|b| b - b'0').collect()
    }

    #[test]
    fn known_numbers() {
        assert!(is_card(&digits("4111111111111111")));
        assert!(is_card(&digits("378282246310005")));
        assert!(is_card(&digits("6222021234567890128")));
        assert!(!is_card(&digits("4111111111111112")));
        assert!(
            !is_card(&digits("7111111111111114")),
            "not a payment network"
        );
        assert!(!is_card(&digits("411111111111")), "too short");
    }
}
