#include "otppi/modem/pdu.hpp"

#include "pdu_detail.hpp"

#include <array>
#include <cstdlib>
#include <span>

namespace otppi::modem {

namespace detail {

// Longest hex we look at. A TPDU is at most 164 octets and an SMSC part 12; the slack lets a
// modem's trailing junk through (reported as trailing_octets) while keeping a fuzzer from
// spending time on megabyte inputs.
inline constexpr std::size_t max_pdu_octets = 400;
inline constexpr std::size_t max_ud_octets = 140;
inline constexpr std::size_t max_gsm7_septets = 160;
inline constexpr std::size_t max_address_digits = 20;  // TS 23.040 §9.1.2.5: 12 octets
inline constexpr std::size_t max_smsc_length = 11;     // TS 24.011 §8.2.5.1
inline constexpr std::size_t max_alnum_chars = 11;

// Bounded cursor over untrusted octets: every read says whether the data was there.
class reader {
public:
    explicit reader(std::span<const std::uint8_t> data) : data_(data) {}

    std::optional<std::uint8_t> u8() {
        if (pos_ >= data_.size()) return std::nullopt;
        return data_[pos_++];
    }
    std::optional<std::span<const std::uint8_t>> take(std::size_t n) {
        if (n > remaining()) return std::nullopt;
        const auto s = data_.subspan(pos_, n);
        pos_ += n;
        return s;
    }
    std::size_t remaining() const noexcept { return data_.size() - pos_; }
    std::size_t pos() const noexcept { return pos_; }

private:
    std::span<const std::uint8_t> data_;
    std::size_t pos_ = 0;
};

// Septets a UDH of `udh_octets` (including its length octet) occupies once padded to a septet
// boundary (TS 23.040 §9.2.3.24).
constexpr std::size_t udh_septets(std::size_t udh_octets) noexcept { return (udh_octets * 8 + 6) / 7; }

constexpr std::size_t concat_udh_octets(bool ref16) noexcept { return ref16 ? 7 : 6; }

bool is_digits(std::string_view s) noexcept {
    for (const char c : s) {
        if (c < '0' || c > '9') return false;
    }
    return true;
}

std::string_view strip_plus(std::string_view s) noexcept {
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    return s;
}

// Digits as swapped semi-octets, F-filled to whole octets (TS 23.040 §9.1.2.3).
void append_bcd(std::vector<std::uint8_t>& out, std::string_view digits) {
    for (std::size_t i = 0; i < digits.size(); i += 2) {
        const auto lo = static_cast<std::uint8_t>(digits[i] - '0');
        const auto hi = i + 1 < digits.size() ? static_cast<std::uint8_t>(digits[i + 1] - '0') : std::uint8_t{0x0F};
        out.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
    }
}

std::string bcd_to_digits(std::span<const std::uint8_t> octets, std::size_t semi_octets) {
    static constexpr char map[] = "0123456789*#abc";
    std::string out;
    out.reserve(semi_octets);
    for (std::size_t i = 0; i < semi_octets && i / 2 < octets.size(); ++i) {
        const std::uint8_t b = octets[i / 2];
        const std::uint8_t nibble = i % 2 == 0 ? (b & 0x0F) : (b >> 4);
        // F is filler; tolerate it anywhere rather than drop the message.
        if (nibble != 0x0F) out.push_back(map[nibble]);
    }
    return out;
}

// TP-OA / TP-DA / TP-RA: length in semi-octets, type, value.
std::optional<std::vector<std::uint8_t>> encode_tp_address(std::string_view number, std::uint8_t type) {
    std::vector<std::uint8_t> out;
    if ((type & 0x70) == 0x50) {
        const auto septets = utf8_to_gsm7(number);
        if (!septets || septets->empty()) return std::nullopt;
        // 20 semi-octets hold 11 septets; an extension character costs two of them.
        if (septets->size() > max_alnum_chars) return std::nullopt;
        const auto packed = pack_septets(*septets);
        out.push_back(static_cast<std::uint8_t>((septets->size() * 7 + 3) / 4));
        out.push_back(type);
        out.insert(out.end(), packed.begin(), packed.end());
        return out;
    }
    if (number.empty() || number.size() > max_address_digits || !is_digits(number)) {
        return std::nullopt;
    }
    out.push_back(static_cast<std::uint8_t>(number.size()));
    out.push_back(type);
    append_bcd(out, number);
    return out;
}

std::optional<sms_address> decode_tp_address(reader& r, std::string& err) {
    const auto len = r.u8();
    const auto type = r.u8();
    if (!len || !type) {
        err = "truncated address";
        return std::nullopt;
    }
    if (*len > max_address_digits) {
        err = "address longer than 20 semi-octets";
        return std::nullopt;
    }
    const auto value = r.take((*len + 1u) / 2);
    if (!value) {
        err = "truncated address";
        return std::nullopt;
    }
    sms_address a;
    a.type = *type;
    if (a.alphanumeric()) {
        auto septets = unpack_septets(*value, *len * 4u / 7).value_or(std::vector<std::uint8_t>{});
        // When the semi-octet count lands exactly on a septet boundary, a sender that sized the
        // field in whole octets leaves 7 zero bits that read as a trailing '@'.
        if (*len % 2 == 0 && (*len * 4u) % 7 == 0 && !septets.empty() && septets.back() == 0) {
            septets.pop_back();
        }
        a.number = gsm7_to_utf8(septets);
    } else {
        a.number = bcd_to_digits(*value, *len);
    }
    return a;
}

std::optional<std::vector<std::uint8_t>> encode_smsc(std::string_view smsc) {
    const auto digits = strip_plus(smsc);
    if (digits.empty()) return std::vector<std::uint8_t>{0x00};
    if (digits.size() > max_address_digits || !is_digits(digits)) return std::nullopt;
    std::vector<std::uint8_t> out;
    out.push_back(static_cast<std::uint8_t>(1 + (digits.size() + 1) / 2));
    out.push_back(0x91);
    append_bcd(out, digits);
    return out;
}

// SMSC part: length in octets (type included), 0 = none.
bool decode_smsc(reader& r, std::optional<sms_address>& out, std::string& err) {
    const auto len = r.u8();
    if (!len) {
        err = "empty PDU";
        return false;
    }
    if (*len == 0) return true;
    if (*len > max_smsc_length) {
        err = "SMSC length out of range";
        return false;
    }
    const auto value = r.take(*len);
    if (!value) {
        err = "truncated SMSC address";
        return false;
    }
    sms_address a;
    a.type = (*value)[0];
    a.number = bcd_to_digits(value->subspan(1), (*len - std::size_t{1}) * 2);
    out = std::move(a);
    return true;
}

bool timestamp_fields_valid(const sms_timestamp& ts) noexcept {
    return ts.year >= 0 && ts.year <= 99 && ts.month >= 1 && ts.month <= 12 && ts.day >= 1 && ts.day <= 31 && ts.hour >= 0 &&
           ts.hour <= 23 && ts.minute >= 0 && ts.minute <= 59 && ts.second >= 0 && ts.second <= 59 && ts.tz_quarters >= -79 &&
           ts.tz_quarters <= 79;
}

// Semi-octets swapped: the first digit sits in the low nibble (TS 23.040 §9.2.3.11).
std::uint8_t swapped_bcd(int v) noexcept { return static_cast<std::uint8_t>((v % 10) << 4 | (v / 10) % 10); }

void append_timestamp(std::vector<std::uint8_t>& out, const sms_timestamp& ts) {
    for (const int v : {ts.year, ts.month, ts.day, ts.hour, ts.minute, ts.second}) {
        out.push_back(swapped_bcd(v));
    }
    const int q = std::abs(ts.tz_quarters);
    // The sign is bit 3 of the octet: the top bit of the tens digit, which never exceeds 7.
    out.push_back(static_cast<std::uint8_t>((q % 10) << 4 | (q / 10) | (ts.tz_quarters < 0 ? 0x08 : 0)));
}

std::optional<sms_timestamp> decode_timestamp(std::span<const std::uint8_t> b) {
    if (b.size() != 7) return std::nullopt;
    std::array<int, 6> v{};
    for (std::size_t i = 0; i < v.size(); ++i) {
        const int tens = b[i] & 0x0F;
        const int units = b[i] >> 4;
        if (tens > 9 || units > 9) return std::nullopt;
        v[i] = tens * 10 + units;
    }
    const int tz_units = b[6] >> 4;
    if (tz_units > 9) return std::nullopt;
    const int q = (b[6] & 0x07) * 10 + tz_units;
    sms_timestamp ts{v[0], v[1], v[2], v[3], v[4], v[5], (b[6] & 0x08) ? -q : q};
    if (!timestamp_fields_valid(ts)) return std::nullopt;
    return ts;
}

struct dcs_info {
    data_coding coding = data_coding::gsm7;
    bool compressed = false;
    std::optional<int> message_class;
};

// SMS data coding groups (TS 23.038 §4). Reserved groups and the reserved alphabet are read as
// the default alphabet, as §4 tells receivers to.
dcs_info classify_sms_dcs(std::uint8_t dcs) noexcept {
    dcs_info d;
    const auto alphabet = [&](std::uint8_t bits) {
        switch (bits & 0x03) {
            case 1:
                d.coding = data_coding::data8;
                break;
            case 2:
                d.coding = data_coding::ucs2;
                break;
            default:
                d.coding = data_coding::gsm7;
                break;
        }
    };
    switch (dcs >> 4) {
        case 0x0:
        case 0x1:
        case 0x2:
        case 0x3:  // general data coding
        case 0x4:
        case 0x5:
        case 0x6:
        case 0x7:  // same, marked for automatic deletion
            d.compressed = (dcs & 0x20) != 0;
            if (dcs & 0x10) d.message_class = dcs & 0x03;
            alphabet(static_cast<std::uint8_t>(dcs >> 2));
            break;
        case 0xC:
        case 0xD:  // message waiting indication, default alphabet
            break;
        case 0xE:  // message waiting indication, UCS2
            d.coding = data_coding::ucs2;
            break;
        case 0xF:  // data coding / message class
            d.coding = (dcs & 0x04) ? data_coding::data8 : data_coding::gsm7;
            d.message_class = dcs & 0x03;
            break;
        default:  // 0x8..0xB reserved
            break;
    }
    return d;
}

void parse_udh(user_data& ud) {
    const auto& h = ud.header;
    std::size_t i = 0;
    while (h.size() - i >= 2) {
        const std::uint8_t iei = h[i];
        const std::uint8_t len = h[i + 1];
        // A bad element length leaves the rest unparseable, but the text position comes from
        // the UDHL, so keep the message and just stop reading elements.
        if (len > h.size() - i - 2) break;
        const std::uint8_t* d = h.data() + i + 2;
        std::optional<concat_info> c;
        if (iei == 0x00 && len == 3) {
            c = concat_info{d[0], d[1], d[2], false};
        } else if (iei == 0x08 && len == 4) {
            c = concat_info{static_cast<std::uint16_t>(d[0] << 8 | d[1]), d[2], d[3], true};
        }
        // Later valid elements win (TS 23.040 §9.2.3.24: the last occurrence is used).
        if (c && c->total != 0 && c->seq != 0 && c->seq <= c->total) ud.concat = c;
        i += 2u + len;
    }
}

std::optional<user_data> decode_user_data(reader& r, std::uint8_t dcs, bool udhi, std::string& err) {
    const auto udl = r.u8();
    if (!udl) {
        err = "missing TP-UDL";
        return std::nullopt;
    }
    const dcs_info info = classify_sms_dcs(dcs);
    // Compressed data is counted in octets whatever the alphabet (TS 23.040 §9.2.3.16).
    const bool septets = info.coding == data_coding::gsm7 && !info.compressed;
    const std::size_t octets = septets ? packed_octets(*udl) : *udl;
    const auto bytes = r.take(octets);
    if (!bytes) {
        err = "user data shorter than TP-UDL";
        return std::nullopt;
    }
    user_data ud;
    ud.dcs = dcs;
    ud.coding = info.coding;
    ud.compressed = info.compressed;
    ud.message_class = info.message_class;

    std::size_t header_octets = 0;
    if (udhi) {
        if (bytes->empty()) {
            err = "TP-UDHI set but user data empty";
            return std::nullopt;
        }
        header_octets = (*bytes)[0] + std::size_t{1};
        if (header_octets > bytes->size()) {
            err = "UDH longer than user data";
            return std::nullopt;
        }
        ud.header.assign(bytes->begin() + 1, bytes->begin() + static_cast<std::ptrdiff_t>(header_octets));
        parse_udh(ud);
    }

    if (septets) {
        const std::size_t skip = udhi ? udh_septets(header_octets) : 0;
        if (skip > *udl) {
            err = "UDH longer than TP-UDL";
            return std::nullopt;
        }
        const auto s = unpack_septets(*bytes, *udl - skip, skip * 7);
        if (!s) {  // cannot happen given the sizes above; kept so a future edit fails safe
            err = "user data shorter than TP-UDL";
            return std::nullopt;
        }
        ud.text = gsm7_to_utf8(*s);
        return ud;
    }
    const auto payload = bytes->subspan(header_octets);
    if (info.coding == data_coding::ucs2 && !info.compressed) {
        ud.text = ucs2_bytes_to_utf8(payload);
    } else {
        ud.binary = true;
        ud.text = to_hex(payload);
    }
    return ud;
}

std::vector<std::uint8_t> concat_udh(std::uint16_t ref, bool ref16, std::size_t total, std::size_t seq) {
    const auto t = static_cast<std::uint8_t>(total);
    const auto s = static_cast<std::uint8_t>(seq);
    if (ref16) {
        return {0x06, 0x08, 0x04, static_cast<std::uint8_t>(ref >> 8), static_cast<std::uint8_t>(ref & 0xFF), t, s};
    }
    return {0x05, 0x00, 0x03, static_cast<std::uint8_t>(ref & 0xFF), t, s};
}

std::optional<part_payload> build_part(encoding enc, std::string_view text, const std::vector<std::uint8_t>& udh) {
    part_payload p;
    p.udhi = !udh.empty();
    p.ud = udh;
    if (enc == encoding::gsm7) {
        const auto s = utf8_to_gsm7(text);
        if (!s) return std::nullopt;
        const std::size_t skip = udh.empty() ? 0 : udh_septets(udh.size());
        // Fill bits put the first text septet on a septet boundary after the UDH.
        const auto packed = pack_septets(*s, skip * 7 - udh.size() * 8);
        const std::size_t udl = skip + s->size();
        if (udl > max_gsm7_septets) return std::nullopt;
        p.udl = static_cast<std::uint8_t>(udl);
        p.ud.insert(p.ud.end(), packed.begin(), packed.end());
    } else {
        const auto u = utf8_to_utf16(text);
        if (!u) return std::nullopt;
        const auto bytes = utf16_to_ucs2_bytes(*u);
        p.ud.insert(p.ud.end(), bytes.begin(), bytes.end());
        if (p.ud.size() > max_ud_octets) return std::nullopt;
        p.udl = static_cast<std::uint8_t>(p.ud.size());
    }
    return p;
}

// Splits and encodes the user data of every part; shared by SUBMIT and DELIVER.
std::optional<std::pair<encoding, std::vector<part_payload>>> build_parts(std::string_view utf8, std::uint16_t ref, bool ref16,
                                                                          std::string& err) {
    const auto plan = plan_sms(utf8, ref16);
    if (!plan) {
        err = "text is not valid UTF-8";
        return std::nullopt;
    }
    const std::size_t total = plan->parts_utf8.size();
    if (total > max_sms_parts) {
        err = "text needs more than 255 parts";
        return std::nullopt;
    }
    std::vector<part_payload> parts;
    parts.reserve(total);
    for (std::size_t i = 0; i < total; ++i) {
        const auto udh = total > 1 ? concat_udh(ref, ref16, total, i + 1) : std::vector<std::uint8_t>{};
        auto p = build_part(plan->enc, plan->parts_utf8[i], udh);
        if (!p) {  // the plan guarantees a fit; reaching here is a bug in this file
            err = "internal: part does not fit";
            return std::nullopt;
        }
        parts.push_back(std::move(*p));
    }
    return std::pair{plan->enc, std::move(parts)};
}

encoded_pdu finish(const std::vector<std::uint8_t>& pdu, std::size_t smsc_octets) {
    return {to_hex(pdu), static_cast<int>(pdu.size() - smsc_octets)};
}

}  // namespace detail

// ---- planning --------------------------------------------------------------------------------

std::size_t sms_part_capacity(encoding enc, bool multipart, bool use_16bit_ref) noexcept {
    const std::size_t udh = multipart ? detail::concat_udh_octets(use_16bit_ref) : 0;
    if (enc == encoding::gsm7) {
        return detail::max_gsm7_septets - (udh ? detail::udh_septets(udh) : 0);
    }
    return (detail::max_ud_octets - udh) / 2;
}

std::optional<sms_plan> plan_sms(std::string_view utf8, bool use_16bit_ref) {
    const auto cps = utf8_to_code_points(utf8);
    if (!cps) return std::nullopt;
    sms_plan plan;
    plan.enc = encoding::gsm7;
    for (const char32_t cp : *cps) {
        if (gsm7_cost(cp) == 0) {
            plan.enc = encoding::ucs2;
            break;
        }
    }
    const auto cost = [&](char32_t cp) { return plan.enc == encoding::gsm7 ? gsm7_cost(cp) : utf16_length(cp); };
    for (const char32_t cp : *cps) plan.units += cost(cp);

    const bool multipart = plan.units > sms_part_capacity(plan.enc, false);
    const std::size_t cap = sms_part_capacity(plan.enc, multipart, use_16bit_ref);
    std::string part;
    std::size_t part_units = 0;
    for (const char32_t cp : *cps) {
        const std::size_t c = cost(cp);
        // Whole characters only: an escape pair or surrogate pair that does not fit moves on.
        if (part_units + c > cap && part_units > 0) {
            plan.parts_utf8.push_back(std::move(part));
            plan.part_units.push_back(part_units);
            part.clear();
            part_units = 0;
        }
        append_utf8(part, cp);
        part_units += c;
    }
    plan.parts_utf8.push_back(std::move(part));
    plan.part_units.push_back(part_units);
    return plan;
}

// ---- SMS-SUBMIT ------------------------------------------------------------------------------

encode_result encode_submit(std::string_view utf8, const submit_options& opts) {
    encode_result res;
    const auto dest = detail::strip_plus(opts.destination);
    const auto da = detail::encode_tp_address(dest, opts.destination_international ? 0x91 : 0x81);
    if (!da) {
        res.error = "destination must be 1 to 20 digits";
        return res;
    }
    auto parts = detail::build_parts(utf8, opts.concat_ref, opts.use_16bit_ref, res.error);
    if (!parts) return res;
    const auto& [enc, payloads] = *parts;

    std::uint8_t dcs = enc == encoding::gsm7 ? 0x00 : 0x08;
    if (opts.flash) dcs |= 0x10;  // class meaningful, class 0
    for (const auto& p : payloads) {
        std::uint8_t fo = 0x01;  // SMS-SUBMIT
        if (opts.validity_relative) fo |= 0x10;
        if (opts.request_status_report) fo |= 0x20;
        if (p.udhi) fo |= 0x40;
        std::vector<std::uint8_t> pdu{0x00, fo, 0x00};
        pdu.insert(pdu.end(), da->begin(), da->end());
        pdu.push_back(0x00);  // TP-PID
        pdu.push_back(dcs);
        if (opts.validity_relative) pdu.push_back(*opts.validity_relative);
        pdu.push_back(p.udl);
        pdu.insert(pdu.end(), p.ud.begin(), p.ud.end());
        res.pdus.push_back(detail::finish(pdu, 1));
    }
    return res;
}

// ---- decoding --------------------------------------------------------------------------------

std::optional<std::int64_t> to_unix_seconds(const sms_timestamp& ts) {
    if (!detail::timestamp_fields_valid(ts)) return std::nullopt;
    using namespace std::chrono;
    const year_month_day ymd{year{2000 + ts.year}, month{static_cast<unsigned>(ts.month)}, day{static_cast<unsigned>(ts.day)}};
    if (!ymd.ok()) return std::nullopt;
    const auto local = sys_days{ymd}.time_since_epoch() + hours{ts.hour} + minutes{ts.minute} + seconds{ts.second};
    // The stamp is local time; UTC = local - offset.
    return duration_cast<seconds>(local - minutes{15 * ts.tz_quarters}).count();
}

delivery_state classify_status(std::uint8_t st) noexcept {
    if (st & 0x80) return delivery_state::failed;  // reserved
    switch (st >> 5) {
        case 0:  // completed: 0x00-0x02 defined, 0x10-0x1F SC-specific
            return (st <= 0x02 || st >= 0x10) ? delivery_state::delivered : delivery_state::failed;
        case 1:  // temporary error, SC still trying: 0x20-0x25 defined, 0x30-0x3F SC-specific
            return (st <= 0x25 || st >= 0x30) ? delivery_state::pending : delivery_state::failed;
        default:  // permanent error, or temporary error the SC gave up on
            return delivery_state::failed;
    }
}

const user_data* decoded_pdu::ud() const noexcept {
    if (const auto* d = std::get_if<sms_deliver>(&message)) return &d->ud;
    if (const auto* s = std::get_if<sms_submit>(&message)) return &s->ud;
    if (const auto* r = std::get_if<sms_status_report>(&message)) return r->ud ? &*r->ud : nullptr;
    return nullptr;
}

namespace detail {

std::optional<sms_deliver> decode_deliver(reader& r, std::uint8_t fo, std::string& err) {
    sms_deliver d;
    d.more_messages = (fo & 0x04) == 0;
    d.status_report_indication = (fo & 0x20) != 0;
    d.reply_path = (fo & 0x80) != 0;
    auto oa = decode_tp_address(r, err);
    if (!oa) return std::nullopt;
    d.originator = std::move(*oa);
    const auto pid = r.u8();
    const auto dcs = r.u8();
    const auto scts = r.take(7);
    if (!pid || !dcs || !scts) {
        err = "truncated SMS-DELIVER header";
        return std::nullopt;
    }
    d.pid = *pid;
    d.scts = decode_timestamp(*scts);
    auto ud = decode_user_data(r, *dcs, (fo & 0x40) != 0, err);
    if (!ud) return std::nullopt;
    d.ud = std::move(*ud);
    return d;
}

std::optional<sms_submit> decode_submit(reader& r, std::uint8_t fo, std::string& err) {
    sms_submit s;
    s.reject_duplicates = (fo & 0x04) != 0;
    s.status_report_requested = (fo & 0x20) != 0;
    s.reply_path = (fo & 0x80) != 0;
    const auto mr = r.u8();
    if (!mr) {
        err = "truncated SMS-SUBMIT header";
        return std::nullopt;
    }
    s.message_ref = *mr;
    auto da = decode_tp_address(r, err);
    if (!da) return std::nullopt;
    s.destination = std::move(*da);
    const auto pid = r.u8();
    const auto dcs = r.u8();
    if (!pid || !dcs) {
        err = "truncated SMS-SUBMIT header";
        return std::nullopt;
    }
    s.pid = *pid;
    // TP-VPF bits 4..3: 00 none, 10 relative, 01 enhanced, 11 absolute.
    switch ((fo >> 3) & 0x03) {
        case 0:
            s.vpf = validity_format::none;
            break;
        case 2:
            s.vpf = validity_format::relative;
            break;
        case 1:
            s.vpf = validity_format::enhanced;
            break;
        default:
            s.vpf = validity_format::absolute;
            break;
    }
    if (s.vpf == validity_format::relative) {
        const auto vp = r.u8();
        if (!vp) {
            err = "truncated TP-VP";
            return std::nullopt;
        }
        s.validity_relative = *vp;
    } else if (s.vpf != validity_format::none) {
        const auto vp = r.take(7);
        if (!vp) {
            err = "truncated TP-VP";
            return std::nullopt;
        }
        if (s.vpf == validity_format::absolute) s.validity_absolute = decode_timestamp(*vp);
    }
    auto ud = decode_user_data(r, *dcs, (fo & 0x40) != 0, err);
    if (!ud) return std::nullopt;
    s.ud = std::move(*ud);
    return s;
}

// The optional tail after TP-ST (TP-PI and what it announces). Any trouble here drops only the
// tail: the status itself is what the gateway needs.
std::optional<user_data> decode_report_tail(reader& r, std::uint8_t fo) {
    auto pi = r.u8();
    if (!pi) return std::nullopt;
    std::uint8_t first_pi = *pi;
    // Bit 7 extends TP-PI into further octets that carry nothing we read.
    while (*pi & 0x80) {
        pi = r.u8();
        if (!pi) return std::nullopt;
    }
    if (first_pi & 0x01) {
        if (!r.u8()) return std::nullopt;  // TP-PID
    }
    std::uint8_t dcs = 0;
    if (first_pi & 0x02) {
        const auto d = r.u8();
        if (!d) return std::nullopt;
        dcs = *d;
    }
    if (!(first_pi & 0x04)) return std::nullopt;
    std::string ignored;
    return decode_user_data(r, dcs, (fo & 0x40) != 0, ignored);
}

std::optional<sms_status_report> decode_status_report(reader& r, std::uint8_t fo, std::string& err) {
    sms_status_report s;
    s.more_messages = (fo & 0x04) == 0;
    s.command_result = (fo & 0x20) != 0;
    const auto mr = r.u8();
    if (!mr) {
        err = "truncated SMS-STATUS-REPORT";
        return std::nullopt;
    }
    s.message_ref = *mr;
    auto ra = decode_tp_address(r, err);
    if (!ra) return std::nullopt;
    s.recipient = std::move(*ra);
    const auto scts = r.take(7);
    const auto dt = r.take(7);
    const auto st = r.u8();
    if (!scts || !dt || !st) {
        err = "truncated SMS-STATUS-REPORT";
        return std::nullopt;
    }
    s.scts = decode_timestamp(*scts);
    s.discharge_time = decode_timestamp(*dt);
    s.status = *st;
    s.ud = decode_report_tail(r, fo);
    return s;
}

}  // namespace detail

decode_result decode_pdu_verbose(std::string_view hex, bool has_smsc_prefix) {
    decode_result res;
    if (hex.size() > detail::max_pdu_octets * 2) {
        res.error = "PDU too long";
        return res;
    }
    const auto bytes = from_hex(hex);
    if (!bytes) {
        res.error = "not a hex string";
        return res;
    }
    detail::reader r(*bytes);
    decoded_pdu pdu;
    if (has_smsc_prefix && !detail::decode_smsc(r, pdu.smsc, res.error)) return res;
    const std::size_t tpdu_start = r.pos();
    const auto fo = r.u8();
    if (!fo) {
        res.error = "missing first octet";
        return res;
    }
    pdu.first_octet = *fo;
    switch (*fo & 0x03) {
        case 0: {
            auto m = detail::decode_deliver(r, *fo, res.error);
            if (!m) return res;
            pdu.message = std::move(*m);
            break;
        }
        case 1: {
            auto m = detail::decode_submit(r, *fo, res.error);
            if (!m) return res;
            pdu.message = std::move(*m);
            break;
        }
        case 2: {
            auto m = detail::decode_status_report(r, *fo, res.error);
            if (!m) return res;
            pdu.message = std::move(*m);
            break;
        }
        default:
            res.error = "reserved TP-MTI";
            return res;
    }
    pdu.tpdu_length = static_cast<int>(bytes->size() - tpdu_start);
    pdu.trailing_octets = r.remaining();
    res.pdu = std::move(pdu);
    return res;
}

std::optional<decoded_pdu> decode_pdu(std::string_view hex, bool has_smsc_prefix) { return decode_pdu_verbose(hex, has_smsc_prefix).pdu; }

data_coding sms_dcs_coding(std::uint8_t dcs) noexcept { return detail::classify_sms_dcs(dcs).coding; }

std::optional<user_data> decode_user_data_octets(std::span<const std::uint8_t> octets, std::uint8_t dcs, bool udhi) {
    if (octets.size() > detail::max_ud_octets) return std::nullopt;
    const auto info = detail::classify_sms_dcs(dcs);
    std::size_t udl = octets.size();
    if (info.coding == data_coding::gsm7 && !info.compressed) {
        udl = octets.size() * 8 / 7;
        // 7 spare bits in the last octet hold a whole (zero) septet of padding.
        if (udl > 0 && (octets.size() * 8) % 7 == 0) {
            auto s = unpack_septets(octets, udl);
            if (s && s->back() == 0) --udl;
        }
    }
    std::vector<std::uint8_t> buf;
    buf.reserve(octets.size() + 1);
    buf.push_back(static_cast<std::uint8_t>(udl));
    buf.insert(buf.end(), octets.begin(), octets.end());
    detail::reader r(buf);
    std::string ignored;
    return detail::decode_user_data(r, dcs, udhi, ignored);
}

std::chrono::seconds validity_duration(std::uint8_t vp) noexcept {
    using namespace std::chrono;
    if (vp <= 143) return minutes{(vp + 1) * 5};
    if (vp <= 167) return hours{12} + minutes{(vp - 143) * 30};
    if (vp <= 196) return days{vp - 166};
    return weeks{vp - 192};
}

std::uint8_t validity_for(std::chrono::seconds ttl) noexcept {
    // The mapping is monotonic, so the first value that covers ttl is the smallest.
    for (int vp = 0; vp <= 255; ++vp) {
        if (validity_duration(static_cast<std::uint8_t>(vp)) >= ttl) {
            return static_cast<std::uint8_t>(vp);
        }
    }
    return 255;
}

}  // namespace otppi::modem
