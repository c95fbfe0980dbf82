export default function Home() {
  return <p>next ok</p>;
}
