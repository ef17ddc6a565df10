using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace OpsRunbook.Engine.Logs;

/// <summary>
/// A word the sieve looks for (ASCII, any case); <paramref name="WholeEnd"/>: it is a whole value, so what follows ends
/// the value — not a letter, a digit, a non-ASCII byte, nor '.', ':', '-', '_' or '/', which continue a time, a number or
/// a name (":50" in "10:50:00" is no level).
/// </summary>
public readonly record struct SieveWord(string Text, bool WholeEnd = false);

/// <summary>
/// Finds the first of several ASCII words (any case) in UTF-8 bytes, 32 bytes at a time: each word's first three
/// bytes are looked for at every position at once (bytes folded to lower case by setting bit 0x20, which can only add
/// candidates), and a candidate is then checked exactly. With AVX2 the look-up is Hyperscan's "Teddy": each of the
/// three bytes' low and high nibbles index a 16-entry table of the buckets (8, one bit each) that allow it, so the
/// cost does not grow with the number of words; elsewhere each word's bytes are compared. Words that start with the
/// same byte share a bucket (so a bucket's nibble tables mix little), and a candidate is checked only against its
/// buckets' words. This is what lets a scan skip the lines a question cannot be about without decoding them, as grep
/// does; .NET 8's SearchValues has no many-string search yet.
/// </summary>
public sealed class ByteSieve
{
    private readonly byte[][] _words;
    private readonly bool[] _wholeEnd;
    private readonly Vector256<byte>[][] _prefix;
    private readonly byte[] _bucket;
    // Teddy's tables: for the word's j-th byte, which buckets allow each low (_low[j]) and high (_high[j]) nibble.
    private readonly Vector256<byte>[] _low = new Vector256<byte>[3];
    private readonly Vector256<byte>[] _high = new Vector256<byte>[3];

    /// <summary>A sieve for <paramref name="words"/> (each 1 to 64 ASCII characters).</summary>
    public ByteSieve(IEnumerable<SieveWord> words)
    {
        var list = words.ToList();
        if (list.Count == 0 || list.Any(w => w.Text.Length == 0 || w.Text.Length > 64 || w.Text.Any(c => c > 0x7F)))
        {
            throw new ArgumentException("A sieve needs one or more ASCII words of 1 to 64 characters.", nameof(words));
        }
        _words = list.Select(w => w.Text.Select(c => (byte)(char.IsAsciiLetter(c) ? char.ToLowerInvariant(c) : c)).ToArray()).ToArray();
        _wholeEnd = list.Select(w => w.WholeEnd).ToArray();
        _prefix = _words.Select(w => w.Take(3).Select(b => Vector256.Create((byte)(b | 0x20))).ToArray()).ToArray();
        _bucket = Buckets(_words);
        for (var j = 0; j < 3; j++)
        {
            var low = new byte[32];
            var high = new byte[32];
            for (var w = 0; w < _words.Length; w++)
            {
                var bucket = _bucket[w];
                for (var n = 0; n < 32; n++)
                {
                    // A word shorter than j + 1 bytes allows anything there; both 128-bit lanes hold the same table.
                    var b = j < _words[w].Length ? _words[w][j] | 0x20 : -1;
                    if (b < 0 || (n & 15) == (b & 15)) low[n] |= bucket;
                    if (b < 0 || (n & 15) == b >> 4) high[n] |= bucket;
                }
            }
            _low[j] = Vector256.Create(low);
            _high[j] = Vector256.Create(high);
        }
        Words = list;
    }

    /// <summary>The words.</summary>
    public IReadOnlyList<SieveWord> Words { get; }

    /// <summary>Each word's bucket bit: words grouped by their first byte (folded), the smallest groups merged down to 8.</summary>
    private static byte[] Buckets(byte[][] words)
    {
        var groups = words.Select((w, i) => (First: w[0] | 0x20, Index: i)).GroupBy(w => w.First).Select(g => g.Select(w => w.Index).ToList()).ToList();
        while (groups.Count > 8)
        {
            var smallest = groups.OrderBy(g => g.Count).Take(2).ToList();
            groups.Remove(smallest[1]);
            smallest[0].AddRange(smallest[1]);
        }
        var buckets = new byte[words.Length];
        for (var g = 0; g < groups.Count; g++)
        {
            foreach (var w in groups[g]) buckets[w] = (byte)(1 << g);
        }
        return buckets;
    }

    /// <summary>
    /// The words are levels of plain-text lines, which stand only after the leading timestamp (and a '['): a line whose
    /// first hit is elsewhere cannot have one and is skipped undecoded.
    /// </summary>
    public bool PlainLevelOnly { get; init; }

    /// <summary>
    /// Where a plain line's level word would start (after a leading timestamp, blanks and '['), as LogLineParser reads
    /// it; -1 when the line's start holds a non-ASCII byte, whose blank-ness only the decoded text can tell.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int PlainLevelPosition(ReadOnlySpan<byte> line)
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
        static bool Digits(ReadOnlySpan<byte> s, int i, int n)
        {
            if (i + n > s.Length) return false;
            for (var k = i; k < i + n; k++) if (s[k] is < (byte)'0' or > (byte)'9') return false;
            return true;
        }
        [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
        static bool Blank(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\v' or (byte)'\f' or (byte)'\r' or (byte)'\n';
        var at = 0;
        if (line.Length >= 19 && Digits(line, 0, 4) && line[4] == '-' && Digits(line, 5, 2) && line[7] == '-' && Digits(line, 8, 2) && line[10] is (byte)'T' or (byte)' '
            && Digits(line, 11, 2) && line[13] == ':' && Digits(line, 14, 2) && line[16] == ':' && Digits(line, 17, 2))
        {
            var i = 19;
            if (i + 1 < line.Length && line[i] is (byte)'.' or (byte)',' && Digits(line, i + 1, 1))
            {
                i++;
                while (i < line.Length && line[i] is >= (byte)'0' and <= (byte)'9') i++;
            }
            if (i < line.Length && line[i] == 'Z') i++;
            else if (i < line.Length && line[i] is (byte)'+' or (byte)'-' && Digits(line, i + 1, 2))
            {
                if (i + 3 < line.Length && line[i + 3] == ':' && Digits(line, i + 4, 2)) i += 6;
                else if (Digits(line, i + 3, 2)) i += 5;
            }
            if (i < line.Length && line[i] >= 0x80) return -1;
            if (i < line.Length && Blank(line[i]))
            {
                at = i;
                while (at < line.Length && Blank(line[at])) at++;
                if (at < line.Length && line[at] >= 0x80) return -1;
            }
        }
        return at < line.Length && line[at] == '[' ? at + 1 : at;
    }

    /// <summary>The position of the first word in <paramref name="text"/>, or -1.</summary>
    /// <remarks>Optimized at its first call: a scan runs once per command, too briefly for tiered compilation to catch up.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Find(ReadOnlySpan<byte> text)
    {
        var i = 0;
        if (Vector256.IsHardwareAccelerated && text.Length >= Vector256<byte>.Count + 2)
        {
            ref var start = ref MemoryMarshal.GetReference(text);
            var last = text.Length - Vector256<byte>.Count - 2;
            for (; i <= last; i += Vector256<byte>.Count)
            {
                var buckets = Candidates(ref start, i);
                if (buckets == Vector256<byte>.Zero) continue;
                if (FirstWord(text, i, buckets, 0) is var at and >= 0) return at;
            }
            if (i < last + Vector256<byte>.Count)
            {
                // The tail: one more block, overlapping the last (its positions before i were looked at already).
                var buckets = Candidates(ref start, last);
                if (buckets != Vector256<byte>.Zero && FirstWord(text, last, buckets, i - last) is var at and >= 0) return at;
                i = last + Vector256<byte>.Count;
            }
        }
        for (; i < text.Length; i++)
        {
            if (IsWordAt(text, i, 0xFF)) return i;
        }
        return -1;
    }

    /// <summary>The first word among the candidates of the block at <paramref name="at"/>, from its <paramref name="skip"/>-th position on.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int FirstWord(ReadOnlySpan<byte> text, int at, Vector256<byte> buckets, int skip)
    {
        var bits = ~Vector256.Equals(buckets, Vector256<byte>.Zero).ExtractMostSignificantBits() & (uint.MaxValue << skip);
        while (bits != 0)
        {
            var k = BitOperations.TrailingZeroCount(bits);
            if (IsWordAt(text, at + k, buckets.GetElement(k))) return at + k;
            bits &= bits - 1;
        }
        return -1;
    }

    /// <summary>For the 32 positions starting at <paramref name="at"/>, the buckets of the words whose first three bytes (folded) may stand there.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private Vector256<byte> Candidates(ref byte start, int at)
    {
        var fold = Vector256.Create((byte)0x20);
        var v0 = Vector256.LoadUnsafe(ref start, (nuint)at) | fold;
        var v1 = Vector256.LoadUnsafe(ref start, (nuint)(at + 1)) | fold;
        var v2 = Vector256.LoadUnsafe(ref start, (nuint)(at + 2)) | fold;
        if (Avx2.IsSupported)
        {
            var nibble = Vector256.Create((byte)0x0F);
            return Avx2.Shuffle(_low[0], v0 & nibble) & Avx2.Shuffle(_high[0], Avx2.ShiftRightLogical(v0.AsUInt16(), 4).AsByte() & nibble)
                & Avx2.Shuffle(_low[1], v1 & nibble) & Avx2.Shuffle(_high[1], Avx2.ShiftRightLogical(v1.AsUInt16(), 4).AsByte() & nibble)
                & Avx2.Shuffle(_low[2], v2 & nibble) & Avx2.Shuffle(_high[2], Avx2.ShiftRightLogical(v2.AsUInt16(), 4).AsByte() & nibble);
        }
        var any = Vector256<byte>.Zero;
        for (var w = 0; w < _prefix.Length; w++)
        {
            var p = _prefix[w];
            var m = Vector256.Equals(v0, p[0]);
            if (p.Length > 1) m &= Vector256.Equals(v1, p[1]);
            if (p.Length > 2) m &= Vector256.Equals(v2, p[2]);
            any |= m & Vector256.Create(_bucket[w]);
        }
        return any;
    }

    /// <summary>True for a byte that continues a value rather than ending it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool ContinuesValue(byte b) => b >= 0x80 || char.IsAsciiLetterOrDigit((char)b) || b is (byte)'.' or (byte)':' or (byte)'-' or (byte)'_' or (byte)'/';

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte Lower(byte b) => b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b | 0x20) : b;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool IsWordAt(ReadOnlySpan<byte> text, int at, byte buckets)
    {
        for (var w = 0; w < _words.Length; w++)
        {
            if ((_bucket[w] & buckets) == 0) continue;
            var word = _words[w];
            if (at + word.Length > text.Length) continue;
            var j = 0;
            while (j < word.Length && Lower(text[at + j]) == word[j]) j++;
            if (j < word.Length) continue;
            var end = at + word.Length;
            if (_wholeEnd[w] && end < text.Length && ContinuesValue(text[end])) continue;
            return true;
        }
        return false;
    }
}
