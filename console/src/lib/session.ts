import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

export type Role = 'admin' | 'operator' | 'viewer' | 'worker';
export type Principal = { authEnabled: boolean; role: Role; name: string | null; prefix: string | null };

/**
 * Who is signed in, as the service answers `whoami`. Controls are shown only when the role allows the call
 * (the service checks every call anyway; a refused call shows the service's message).
 */
export type Session = { principal: Principal; canOperate: boolean; isAdmin: boolean; signOut: () => void };

export const SessionContext = createContext<Session | null>(null);

export function sessionOf(principal: Principal, signOut: () => void): Session {
  return {
    principal,
    canOperate: principal.role === 'admin' || principal.role === 'operator',
    isAdmin: principal.role === 'admin',
    signOut,
  };
}

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('no session');
  return s;
}
