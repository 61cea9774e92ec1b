/* Fuzz target: random /proc/kpageflags words through the flag naming used by the listings. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <memlens/kpage.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[64 * 16];
	for (size_t off = 0; off + 8 <= size; off += 8) {
		uint64_t f;
		memcpy(&f, data + off, 8);
		size_t len = 0;
		out[0] = '\0';
		for (unsigned b = 0; b < 64; b++) {
			if (!((f >> b) & 1))
				continue;
			const char *nm = ml_kpage_flag_name(b);
			char l = ml_kpage_flag_letter(b);
			/* every documented bit has a name and a letter, no other bit has either */
			bool known = b <= ML_KPF_PGTABLE || (b >= ML_KPF_RESERVED && b <= ML_KPF_ARCH_2);
			if (known != (nm != NULL) || known != (l != 0))
				abort();
			if (!nm)
				continue;
			size_t k = strlen(nm);
			if (!k || k > 15 || len + k + 2 > sizeof(out))
				abort();
			memcpy(out + len, nm, k);
			len += k;
			out[len++] = ',';
			out[len] = '\0';
		}
	}
	if (ml_kpage_flag_name(ML_KPF_BITS) || ml_kpage_flag_name((unsigned)size + 64) || ml_kpage_flag_letter(ML_KPF_BITS))
		abort();
	return 0;
}
