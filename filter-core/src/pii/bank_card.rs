//! Payment card numbers: a network's issuer ranges and lengths, and Luhn.

use crate::kind::{Canonical, ContextDefaults, KindSpec, Redaction};

pub(crate) const SPEC: KindSpec = KindSpec {
    name: "bank_card",
    label: "BANK_CARD",
    summary: "payment card number in a network's ranges and lengths, passing Luhn",
    canonical: Canonical::Digits,
    redaction: Redaction::Label,
    context: ContextDefaults {
        base: 0.5,
        raise: &[
            "卡号",
            "银行卡",
            "银行卡号",
            "信用卡",
            "储蓄卡",
            "借记卡",
            "收款卡",
            "银行账号",
            "付款卡",
            "card number",
            "card no",
            "credit card",
            "debit card",
            "card",
        ],
        lower: &[
            "订单号",
            "订单编号",
            "运单号",
            "快递单号",
            "物流单号",
            "流水号",
            "交易号",
            "商品编码",
            "工单号",
            "发票号码",
            "发票号",
            "退款单号",
            "货号",
            "条形码",
            "单号",
            "编号",
            "order number",
            "order no",
            "order id",
            "tracking number",
            "invoice",
            "serial number",
            "transaction id",
        ],
        bases: &[],
    },
    tokens: &[],
};

/// Whether the digits pass the Luhn (mod 10) check: every second digit
/// from the right doubled, the digits of every product summed.
pub(crate) fn luhn(d: &[u8]) -> bool {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            let x = u32::from(x) << (i % 2);
            // The digit sum of a product of at most 18, `x / 10 + x % 10`,
            // taken mod 10 with the whole sum, where `x % 10` is `x`. (The
            // longer forms have mutants that no input tells apart.)
            x / 10 + x
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The value of the first `n` digits.
fn prefix(d: &[u8], n: usize) -> u32 {
    d.iter().take(n).fold(0, |v, &x| v * 10 + u32::from(x))
}

/// The network whose issuer ranges and lengths hold the number, as the
/// networks publish them: Visa 4 (13, 16, 19 digits); Mastercard 51-55
/// and 2221-2720 (16); American Express 34, 37 (15); UnionPay 62 (16-19);
/// JCB 3528-3589 (16-19); Discover 6011, 644-649, 65 (16-19); Diners Club
/// 36, 38, 300-305 (14-19).
pub(crate) fn network(d: &[u8]) -> Option<&'static str> {
    let n = d.len();
    // Most digit runs met are years, prices and counts: not one is a card.
    if !(13..=19).contains(&n) {
        return None;
    }
    let (p2, p3, p4) = (prefix(d, 2), prefix(d, 3), prefix(d, 4));
    let long = (16..=19).contains(&n);
    Some(match d.first()? {
        4 if matches!(n, 13 | 16 | 19) => "visa",
        5 if (51..=55).contains(&p2) && n == 16 => "mastercard",
        2 if (2221..=2720).contains(&p4) && n == 16 => "mastercard",
        3 if matches!(p2, 34 | 37) && n == 15 => "amex",
        3 if (3528..=3589).contains(&p4) && long => "jcb",
        3 if (matches!(p2, 36 | 38) || (300..=305).contains(&p3)) && (14..=19).contains(&n) => {
            "diners"
        }
        6 if p2 == 62 && long => "unionpay",
        6 if (p4 == 6011 || (644..=649).contains(&p3) || p2 == 65) && long => "discover",
        _ => return None,
    })
}

/// The network of a payment card number: in a network's ranges and
/// lengths, with a valid Luhn check digit.
pub(crate) fn card_network(d: &[u8]) -> Option<&'static str> {
    network(d).filter(|_| luhn(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits(s: &str) -> Vec<u8> {
        s.bytes().map(|b| b - b'0').collect()
    }

    fn net(s: &str) -> Option<&'static str> {
        card_network(&digits(s))
    }

    #[test]
    fn known_numbers() {
        // The networks' published test numbers.
        assert_eq!(net("4111111111111111"), Some("visa"));
        assert_eq!(net("4222222222222"), Some("visa"));
        assert_eq!(net("5555555555554444"), Some("mastercard"));
        assert_eq!(net("2223003122003222"), Some("mastercard"));
        assert_eq!(net("2720046927315109"), Some("mastercard"));
        assert_eq!(net("378282246310005"), Some("amex"));
        assert_eq!(net("6222021234567890128"), Some("unionpay"));
        assert_eq!(net("6200000000000005"), Some("unionpay"));
        assert_eq!(net("3530111333300000"), Some("jcb"));
        assert_eq!(net("6011111111111117"), Some("discover"));
        assert_eq!(net("6445644564456445"), Some("discover"));
        assert_eq!(net("30569309025904"), Some("diners"));
        assert_eq!(net("38520000023237"), Some("diners"));
        assert_eq!(net("4111111111111112"), None, "Luhn");
        assert_eq!(net("7111111111111114"), None, "not a payment network");
        assert_eq!(net("411111111111"), None, "too short");
    }

    #[test]
    fn lengths_and_ranges_outside_a_network() {
        // Luhn-valid, but no network issues these.
        for s in [
            "411111111111111100", // Visa: 18 digits
            "22210000000000000",  // Mastercard 2-series: 17 digits
            "2721000000000004",   // above 2720
            "2220000000000000",   // below 2221
            "5605105105105105",   // 56 is not Mastercard
            "37828224631003",     // Amex: 14 digits
            "3590000000000000",   // above JCB's 3589
            "6300000000000004",   // 63: no network
        ] {
            assert!(luhn(&digits(s)), "{s} must pass Luhn to test the ranges");
            assert_eq!(net(s), None, "{s}");
        }
    }
}
