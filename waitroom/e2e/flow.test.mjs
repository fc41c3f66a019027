export const name = 'oidc flow';
export async function run() {}
