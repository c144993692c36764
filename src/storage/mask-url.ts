/** The URL with any password replaced by `***`, safe to print and log. */
export function maskUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    // Not a URL the WHATWG parser accepts: mask anything shaped like `//user:password@`.
    return url.replace(/(\/\/[^/:@]*:)[^@/]*@/, '$1***@');
  }
}
