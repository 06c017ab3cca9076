import React from 'react';

export interface MermaidProps {
  chart: string;
}

/** Demo stub: the real site renders the diagram on the client. */
export function Mermaid({ chart }: MermaidProps) {
  return <pre className="mermaid">{chart.trim()}</pre>;
}

export default Mermaid;
