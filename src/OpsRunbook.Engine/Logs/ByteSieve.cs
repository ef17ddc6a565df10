using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace OpsRunbook.Engine.Logs;

/// <summary>A word the sieve looks for (ASCII, any case); <paramref name="WholeEnd"/>: no letter or digit may follow it.</summary>
public readonly record struct SieveWord(string Text, bool WholeEnd = false);

/// <summary>
/// Finds the first of several ASCII words (any case) in UTF-8 bytes, 32 bytes at a time: each word's first three
/// bytes are compared at every position at once (bytes folded to lower case by setting bit 0x20, which can only add
/// candidates), and a candidate is then checked exactly. This is what lets a scan skip the lines a question cannot
/// be about without decoding them, as grep does; .NET 8's SearchValues has no many-string search yet.
/// </summary>
public sealed class ByteSieve
{
    private readonly byte[][] _words;
    private readonly bool[] _wholeEnd;
    private readonly Vector256<byte>[][] _prefix;

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
        Words = list;
    }

    /// <summary>The words.</summary>
    public IReadOnlyList<SieveWord> Words { get; }

    /// <summary>The position of the first word in <paramref name="text"/>, or -1.</summary>
    /// <remarks>Optimized at its first call: a scan runs once per command, too briefly for tiered compilation to catch up.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Find(ReadOnlySpan<byte> text)
    {
        var i = 0;
        if (Vector256.IsHardwareAccelerated && text.Length >= Vector256<byte>.Count + 2)
        {
            ref var start = ref MemoryMarshal.GetReference(text);
            var fold = Vector256.Create((byte)0x20);
            var last = text.Length - Vector256<byte>.Count - 2;
            for (; i <= last; i += Vector256<byte>.Count)
            {
                var v0 = Vector256.LoadUnsafe(ref start, (nuint)i) | fold;
                var v1 = Vector256.LoadUnsafe(ref start, (nuint)(i + 1)) | fold;
                var v2 = Vector256.LoadUnsafe(ref start, (nuint)(i + 2)) | fold;
                var any = Vector256<byte>.Zero;
                foreach (var p in _prefix)
                {
                    var m = Vector256.Equals(v0, p[0]);
                    if (p.Length > 1) m &= Vector256.Equals(v1, p[1]);
                    if (p.Length > 2) m &= Vector256.Equals(v2, p[2]);
                    any |= m;
                }
                if (any == Vector256<byte>.Zero) continue;
                var bits = any.ExtractMostSignificantBits();
                while (bits != 0)
                {
                    var at = i + BitOperations.TrailingZeroCount(bits);
                    if (IsWordAt(text, at)) return at;
                    bits &= bits - 1;
                }
            }
        }
        for (; i < text.Length; i++)
        {
            if (IsWordAt(text, i)) return i;
        }
        return -1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte Lower(byte b) => b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b | 0x20) : b;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool IsWordAt(ReadOnlySpan<byte> text, int at)
    {
        for (var w = 0; w < _words.Length; w++)
        {
            var word = _words[w];
            if (at + word.Length > text.Length) continue;
            var j = 0;
            while (j < word.Length && Lower(text[at + j]) == word[j]) j++;
            if (j < word.Length) continue;
            var end = at + word.Length;
            if (_wholeEnd[w] && end < text.Length && (char.IsAsciiLetterOrDigit((char)text[end]) || text[end] >= 0x80)) continue;
            return true;
        }
        return false;
    }
}
