// The network's side of the SMS PDU codec: SMS-DELIVER and SMS-STATUS-REPORT
// encoders, which the modem simulator plays and the codec's tests round-trip
// through the decoder. The daemon never sends these.
#include "otppi/modem/pdu.hpp"

#include "pdu_detail.hpp"

namespace otppi::modem {

encode_result encode_deliver(std::string_view utf8, const deliver_options& opts) {
    encode_result res;
    const auto smsc = detail::encode_smsc(opts.smsc);
    if (!smsc) {
        res.error = "SMSC must be up to 20 digits";
        return res;
    }
    std::uint8_t type = 0x91;
    std::string_view number = opts.originator;
    if (opts.originator_type) {
        type = *opts.originator_type;
    } else if (const auto digits = detail::strip_plus(number); !digits.empty() && detail::is_digits(digits)) {
        number = digits;
    } else {
        type = 0xD0;  // alphanumeric, GSM 7-bit
    }
    if ((type & 0x70) != 0x50) number = detail::strip_plus(number);
    const auto oa = detail::encode_tp_address(number, type);
    if (!oa) {
        res.error = "originator must be 1 to 20 digits or 1 to 11 GSM 7-bit characters";
        return res;
    }
    if (!detail::timestamp_fields_valid(opts.timestamp)) {
        res.error = "timestamp out of range";
        return res;
    }
    auto parts = detail::build_parts(utf8, opts.concat_ref, opts.use_16bit_ref, res.error);
    if (!parts) return res;
    const auto& [enc, payloads] = *parts;
    for (const auto& p : payloads) {
        std::vector<std::uint8_t> pdu = *smsc;
        // TP-MMS set: no more messages waiting, what a simulator usually means.
        pdu.push_back(static_cast<std::uint8_t>(0x04 | (p.udhi ? 0x40 : 0)));
        pdu.insert(pdu.end(), oa->begin(), oa->end());
        pdu.push_back(opts.pid);
        pdu.push_back(enc == encoding::gsm7 ? 0x00 : 0x08);
        detail::append_timestamp(pdu, opts.timestamp);
        pdu.push_back(p.udl);
        pdu.insert(pdu.end(), p.ud.begin(), p.ud.end());
        res.pdus.push_back(detail::finish(pdu, smsc->size()));
    }
    return res;
}

std::optional<encoded_pdu> encode_status_report(std::uint8_t message_ref, std::string_view recipient, std::uint8_t status,
                                                const sms_timestamp& scts, const sms_timestamp& discharge_time, std::string_view smsc) {
    const auto sc = detail::encode_smsc(smsc);
    const auto ra = detail::encode_tp_address(detail::strip_plus(recipient), 0x91);
    if (!sc || !ra || !detail::timestamp_fields_valid(scts) || !detail::timestamp_fields_valid(discharge_time)) {
        return std::nullopt;
    }
    std::vector<std::uint8_t> pdu = *sc;
    pdu.push_back(0x06);  // SMS-STATUS-REPORT, TP-MMS set, TP-SRQ clear
    pdu.push_back(message_ref);
    pdu.insert(pdu.end(), ra->begin(), ra->end());
    detail::append_timestamp(pdu, scts);
    detail::append_timestamp(pdu, discharge_time);
    pdu.push_back(status);
    return detail::finish(pdu, sc->size());
}

}  // namespace otppi::modem
