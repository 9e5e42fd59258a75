// Text helpers shared by the SVG charts and the HTML report: escaping for
// XML/HTML text and attribute values, and fixed-point number formatting.
#pragma once

#include <string>
#include <string_view>

namespace tandem::report {

// Escapes & < > " ' so the text is safe both as element content and inside a
// double- or single-quoted attribute value.
std::string escape_xml(std::string_view text);

// ` name="value"` with the value escaped: the one way attributes are written.
std::string attr(std::string_view name, std::string_view value);
std::string attr(std::string_view name, double value);  // coordinates: 1 decimal

// `decimals` digits after the point; NaN and infinities as "n/a". A value
// that rounds to zero prints without a minus sign.
std::string fixed(double value, int decimals);

}  // namespace tandem::report
