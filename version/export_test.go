package version

// DecodeVector decodes the binary form of a vector within lim, for the
// tests of the limits; users decode with Vector.UnmarshalBinary (the default
// limits) or ParseToken (the text form, within any limits).
var DecodeVector = decodeVector

// ParseVector parses the display form, for the fuzzer of MustVector's parser.
var ParseVector = parseVector

// SharesReplicas reports whether a and b share their replicas' memory, for
// the tests of what the layout shares.
func SharesReplicas(a, b Vector) bool { return a.Len() > 0 && sameIDs(a.ids, b.ids) }
