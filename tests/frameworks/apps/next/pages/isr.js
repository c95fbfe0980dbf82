// Incremental static regeneration: prerendered at build, regenerated at run time at
// most once a second, and the result written to disk.
export async function getStaticProps() {
  return { props: { at: new Date().toISOString() }, revalidate: 1 };
}

export default function Isr({ at }) {
  return <p>isr rendered at {at}</p>;
}
