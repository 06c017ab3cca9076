import React from 'react';
import type { ReactNode } from 'react';

export interface CalloutProps {
  type?: 'note' | 'tip' | 'warning';
  title?: string;
  children?: ReactNode;
}

/** Demo stub: a highlighted box with an optional title. */
export function Callout({ type = 'note', title, children }: CalloutProps) {
  return (
    <aside className={`callout callout-${type}`}>
      {title && <strong>{title}</strong>}
      {children}
    </aside>
  );
}

export default Callout;
